@echo off
rem kpi_xl add-in installer for Windows (current user, no admin rights needed).
rem   install.bat                  install or upgrade
rem   install.bat -Uninstall       remove everything it installed
rem   install.bat -Package X.whl   install a given wheel / requirement
rem   install.bat -TrustVbaProject also allow the "Import functions" ribbon button
setlocal
powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0install.ps1" %*
set "KPI_XL_RC=%ERRORLEVEL%"
echo.
pause
exit /b %KPI_XL_RC%
