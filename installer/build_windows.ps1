# Builds the Windows installer: dist\FoodArchive\ (PyInstaller, one folder) and
# dist\FoodArchive-Setup-<version>.exe (Inno Setup). Run from anywhere:
#     powershell -ExecutionPolicy Bypass -File installer\build_windows.ps1
# Options: -Python "py -3.11" (the Python to build with), -Iscc <path to ISCC.exe>,
#          -SkipInstaller (bundle only).
param(
    [string]$Python = "py -3.11",
    [string]$Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe",
    [switch]$SkipInstaller
)
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)

function Invoke-Checked {
    param([string]$Exe, [string[]]$Arguments)
    Write-Host "> $Exe $($Arguments -join ' ')"
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe failed with exit code $LASTEXITCODE" }
}

$started = Get-Date
# 1. A clean build environment with a normal (not editable) install of the project.
if (-not (Test-Path build\venv\Scripts\python.exe)) {
    $exe, $rest = $Python -split " ", 2
    Invoke-Checked $exe (@($rest | Where-Object { $_ }) + @("-m", "venv", "build\venv"))
}
$venv = "build\venv\Scripts\python.exe"
Invoke-Checked $venv @("-m", "pip", "install", "--disable-pip-version-check", ".[build]")
Invoke-Checked $venv @("-m", "pip", "install", "--disable-pip-version-check", "--no-deps", "--force-reinstall", ".")

# 2. The one version number, from pyproject.toml.
$version = (& $venv -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])").Trim()
$numeric = (& $venv -c "import re, sys; n = [int(x) for x in re.findall(r'\d+', sys.argv[1])[:4]]; print('.'.join(map(str, n + [0] * (4 - len(n)))))" $version).Trim()
Write-Host "FoodArchive $version ($numeric)"

# 3. The one-folder bundle.
Invoke-Checked $venv @("-m", "PyInstaller", "--noconfirm", "--distpath", "dist", "--workpath", "build\pyinstaller", "installer\foodarchive.spec")
$said = (& dist\FoodArchive\foodarchive-cli.exe --version).Trim()
if ($said -ne "foodarchive $version") { throw "the bundle says '$said', expected 'foodarchive $version'" }

# 4. The installer.
if (-not $SkipInstaller) {
    if (-not (Test-Path $Iscc)) { throw "Inno Setup not found at $Iscc (install Inno Setup 6.3+ or pass -Iscc)" }
    Invoke-Checked $Iscc @("/DAppVersion=$version", "/DAppNumericVersion=$numeric", "installer\foodarchive.iss")
    Write-Host "Installer: dist\FoodArchive-Setup-$version.exe"
}
$size = [math]::Round(((Get-ChildItem dist\FoodArchive -Recurse | Measure-Object Length -Sum).Sum / 1MB), 0)
Write-Host ("Bundle dist\FoodArchive: {0} MB; built in {1:N0} s" -f $size, ((Get-Date) - $started).TotalSeconds)
