"""Open an .xlsm in headless LibreOffice and report what its VBA import produced, as JSON on stdout.

Runs under the system Python that has ``uno`` (Debian's /usr/bin/python3), not the project's Python:
``/usr/bin/python3 tests/lo_vba_probe.py BOOK.xlsm PROFILE_DIR MACRO_URL…`` (each macro is
called without arguments; its return value is reported).  It starts its own soffice
on a private pipe with a private profile, and always terminates it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid


def main() -> int:
    book, profile, *macro_urls = sys.argv[1:]
    import uno
    from com.sun.star.beans import PropertyValue
    from com.sun.star.connection import NoConnectException

    pipe = "vbaprobe" + uuid.uuid4().hex
    soffice = shutil.which("soffice") or "soffice"
    proc = subprocess.Popen(
        [
            soffice,
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "-env:UserInstallation=" + uno.systemPathToFileUrl(os.path.abspath(profile)),
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result: dict[str, object] = {}
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        ctx = None
        deadline = time.monotonic() + 90
        while ctx is None:
            try:
                ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            except NoConnectException:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.5)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)

        def prop(name: str, value: object) -> PropertyValue:
            p = PropertyValue()
            p.Name, p.Value = name, value
            return p

        url = uno.systemPathToFileUrl(os.path.abspath(book))
        # MacroExecutionMode 4 = ALWAYS_EXECUTE_NO_WARN: document macros run without lowering global security.
        doc = desktop.loadComponentFromURL(
            url, "_blank", 0, (prop("Hidden", True), prop("MacroExecutionMode", 4))
        )
        libs = doc.BasicLibraries
        result["libraries"] = list(libs.getElementNames())
        modules: dict[str, str] = {}
        if libs.hasByName("VBAProject"):
            libs.loadLibrary("VBAProject")
            lib = libs.getByName("VBAProject")
            for name in lib.getElementNames():
                modules[name] = lib.getByName(name)
        result["modules"] = {name: len(text) for name, text in modules.items()}
        result["module_text"] = modules
        result["vba_mode"] = bool(getattr(libs, "VBACompatibilityMode", False))

        buttons = []
        sheets = doc.Sheets
        for s in range(sheets.Count):
            sheet = sheets.getByIndex(s)
            page = sheet.DrawPage
            forms = page.Forms
            for f in range(forms.Count):
                form = forms.getByIndex(f)
                for i in range(form.Count):
                    model = form.getByIndex(i)
                    events = [
                        {
                            "listener": e.ListenerType,
                            "method": e.EventMethod,
                            "type": e.ScriptType,
                            "code": e.ScriptCode,
                        }
                        for e in form.getScriptEvents(i)
                    ]
                    buttons.append(
                        {
                            "sheet": sheet.Name,
                            "label": getattr(model, "Label", None),
                            "class_id": getattr(model, "ClassId", None),
                            "events": events,
                        }
                    )
        result["buttons"] = buttons

        provider = doc.getScriptProvider()
        calls: dict[str, object] = {}
        for macro_url in macro_urls:
            try:
                calls[macro_url] = provider.getScript(macro_url).invoke((), (), ())[0]
            except Exception as exc:  # reported, the test asserts on it
                calls[macro_url] = f"ERROR {type(exc).__name__}: {getattr(exc, 'Message', exc)}"
        result["calls"] = calls
        doc.close(True)
    finally:
        with contextlib.suppress(Exception):
            desktop.terminate()  # type: ignore[possibly-undefined]
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
