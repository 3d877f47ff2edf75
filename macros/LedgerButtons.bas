Attribute VB_Name = "LedgerButtons"
' Buttons of the rectification ledger workbook (placed by `ledger new`).
'
' Each button runs one Sub below, which hands over to Python through xlwings' RunPython; the
' Python side lives in toolkit/excel.py and calls the same library functions as the `ledger` CLI.
'
' This file is ASCII-only on purpose: the project is stored in code page 1252 and Chinese text is
' written as \uXXXX escapes that Zh() turns into Unicode at run time, so messages read the same on
' every system and in every VBA editor (see toolkit/vba.py for the reasons).
Option Explicit

Private Const CLI_VALIDATE As String = "ledger validate "
Private Const CLI_REPORT As String = "ledger report "

' Button: \u6821\u9A8C\u53F0\u8D26
Public Sub ValidateLedger()
    If Not ReadyForPython(CLI_VALIDATE, " --mark") Then Exit Sub
    On Error GoTo Failed
    If RunPython("import toolkit.excel; toolkit.excel.validate()") = -1 Then PythonFailed CLI_VALIDATE, " --mark"
    Exit Sub
Failed:
    CallFailed Err.Description, CLI_VALIDATE, " --mark"
End Sub

' Button: \u751F\u6210\u901A\u62A5
Public Sub GenerateReport()
    If Not ReadyForPython(CLI_REPORT, "") Then Exit Sub
    On Error GoTo Failed
    If RunPython("import toolkit.excel; toolkit.excel.report()") = -1 Then PythonFailed CLI_REPORT, ""
    Exit Sub
Failed:
    CallFailed Err.Description, CLI_REPORT, ""
End Sub

' Button: \u6E05\u9664\u6807\u8BB0
Public Sub ClearMarks()
    If Not ReadyForPython(CLI_VALIDATE, " --mark") Then Exit Sub
    On Error GoTo Failed
    If RunPython("import toolkit.excel; toolkit.excel.clear_marks()") = -1 Then PythonFailed CLI_VALIDATE, " --mark"
    Exit Sub
Failed:
    CallFailed Err.Description, CLI_VALIDATE, " --mark"
End Sub

' Pure VBA, no Python: proves the project compiles and runs (the LibreOffice test calls it).
' A Function, so it stays out of the Macros dialog.
Public Function LedgerSelfTest() As String
    Dim i As Long, total As Long
    For i = 1 To 10
        total = total + i
    Next i
    LedgerSelfTest = "LEDGER-VBA-OK " & CStr(total) & " " & Zh("\u6821\u9A8C\u53F0\u8D26")
End Function

' The command a user without Excel (WPS, LibreOffice) runs instead of the button.
Private Function CliHint(ByVal command As String, ByVal options As String) As String
    CliHint = command & Chr(34) & ThisWorkbook.FullName & Chr(34) & options
End Function

' Pure VBA: the message the buttons show on this host, or "" under Microsoft Excel (the LibreOffice
' test calls it to check the WPS/other-host branch in a real non-Excel host).
Public Function LedgerHostCheck() As String
    LedgerHostCheck = HostMessage(CLI_VALIDATE, " --mark")
End Function

' xlwings needs Microsoft Excel. WPS and LibreOffice both answer "Microsoft Excel" to Application.Name,
' so the install path decides: LibreOffice cannot report one, WPS lives under Kingsoft\...\office6.
Private Function HostMessage(ByVal command As String, ByVal options As String) As String
    Dim hostName As String, hostPath As String
    On Error Resume Next
    hostName = Application.Name
    hostPath = Application.Path
    On Error GoTo 0
    If InStr(1, hostName, "Excel", vbTextCompare) > 0 And hostPath <> "" _
        And InStr(1, hostPath, "Kingsoft", vbTextCompare) = 0 _
        And InStr(1, hostPath, "WPS", vbTextCompare) = 0 _
        And InStr(1, hostPath, "office6", vbTextCompare) = 0 Then Exit Function
    HostMessage = Zh("\u672C\u5DE5\u4F5C\u7C3F\u7684\u6309\u94AE\u53EA\u80FD\u5728 Microsoft Excel \u4E2D\u4F7F\u7528\uFF0C") & _
        Zh("xlwings \u4E0D\u652F\u6301 WPS \u8868\u683C\u548C LibreOffice\u3002") & _
        Zh("\u8BF7\u5728\u547D\u4EE4\u884C\u4E2D\u8FD0\u884C\uFF1A") & vbNewLine & vbNewLine & CliHint(command, options)
End Function

' False, after telling the user why, when the buttons cannot work here.
Private Function ReadyForPython(ByVal command As String, ByVal options As String) As Boolean
    Dim interpreter As String, problem As String
    problem = HostMessage(command, options)
    If problem <> "" Then
        ' WPS (and any host other than Microsoft Excel): xlwings does not support it.
        MsgBox problem, vbExclamation, Zh("\u6574\u6539\u53F0\u8D26\u5DE5\u5177\u7BB1")
        Exit Function
    End If
    #If Mac Then
        interpreter = GetConfig("INTERPRETER_MAC", "")
    #Else
        interpreter = GetConfig("INTERPRETER_WIN", "")
    #End If
    If interpreter = "" Then interpreter = GetConfig("INTERPRETER", "")
    If InStr(interpreter, "\") > 0 Or InStr(interpreter, "/") > 0 Then
        If Dir(interpreter) = "" Then
            MsgBox Zh("\u627E\u4E0D\u5230 Python \u89E3\u91CA\u5668\uFF1A") & interpreter & vbNewLine & vbNewLine & _
                Zh("\u8BF7\u5148\u5B89\u88C5 Python 3.11 \u6216\u66F4\u9AD8\u7248\u672C\uFF0C") & _
                Zh("\u5728\u547D\u4EE4\u884C\u8FD0\u884C pip install zhenggai-toolkit\uFF0C") & _
                Zh("\u518D\u628A python.exe \u7684\u5B8C\u6574\u8DEF\u5F84\u586B\u5165 xlwings.conf \u5DE5\u4F5C\u8868\u7684") & _
                Zh("Interpreter_Win \u4E00\u884C\u3002") & _
                vbNewLine & Zh("\u4E0D\u7528\u6309\u94AE\u4E5F\u53EF\u4EE5\u5728\u547D\u4EE4\u884C\u4E2D\u8FD0\u884C\uFF1A") & vbNewLine & CliHint(command, options), _
                vbExclamation, Zh("\u6574\u6539\u53F0\u8D26\u5DE5\u5177\u7BB1")
            Exit Function
        End If
    End If
    ReadyForPython = True
End Function

' RunPython returned an error (xlwings has already shown Python's own message).
Private Sub PythonFailed(ByVal command As String, ByVal options As String)
    MsgBox Zh("Python \u672A\u80FD\u5B8C\u6210\u64CD\u4F5C\u3002") & _
        Zh("\u5982\u679C\u4E0A\u4E00\u6761\u63D0\u793A\u4E2D\u6709 No module named 'toolkit' \u6216 'xlwings'\uFF0C") & _
        Zh("\u8BF4\u660E\u6574\u6539\u53F0\u8D26\u5DE5\u5177\u7BB1\u6CA1\u6709\u5B89\u88C5\uFF1A") & _
        Zh("\u8BF7\u5728\u547D\u4EE4\u884C\u8FD0\u884C pip install zhenggai-toolkit \u540E\u91CD\u8BD5\u3002") & _
        vbNewLine & Zh("\u4E5F\u53EF\u4EE5\u5728\u547D\u4EE4\u884C\u4E2D\u8FD0\u884C\uFF1A") & vbNewLine & CliHint(command, options), _
        vbExclamation, Zh("\u6574\u6539\u53F0\u8D26\u5DE5\u5177\u7BB1")
End Sub

' RunPython itself could not start (no Python, no xlwings, blocked by security settings).
Private Sub CallFailed(ByVal description As String, ByVal command As String, ByVal options As String)
    MsgBox Zh("\u65E0\u6CD5\u8C03\u7528 Python\uFF1A") & description & vbNewLine & vbNewLine & _
        Zh("\u8BF7\u786E\u8BA4\u5DF2\u5B89\u88C5 Python \u548C\u6574\u6539\u53F0\u8D26\u5DE5\u5177\u7BB1\uFF08pip install zhenggai-toolkit\uFF09\uFF0C") & _
        Zh("\u6216\u5728\u547D\u4EE4\u884C\u4E2D\u8FD0\u884C\uFF1A") & vbNewLine & CliHint(command, options), _
        vbExclamation, Zh("\u6574\u6539\u53F0\u8D26\u5DE5\u5177\u7BB1")
End Sub

' Turns \uXXXX escapes into characters; everything else is copied as is.
Private Function Zh(ByVal text As String) As String
    Const HEX_DIGITS As String = "0123456789ABCDEF"
    Dim i As Long, k As Long, code As Long, digit As Long, result As String
    i = 1
    Do While i <= Len(text)
        If Mid$(text, i, 2) = "\u" And i + 5 <= Len(text) Then
            code = 0
            For k = 0 To 3
                digit = InStr(1, HEX_DIGITS, Mid$(text, i + 2 + k, 1), vbTextCompare) - 1
                code = code * 16 + digit
            Next k
            result = result & ChrW(code)
            i = i + 6
        Else
            result = result & Mid$(text, i, 1)
            i = i + 1
        End If
    Loop
    Zh = result
End Function
