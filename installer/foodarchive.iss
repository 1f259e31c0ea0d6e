; Inno Setup script: the Windows installer of 食品质量技术档案 (FoodArchive).
;
; Build (installer/README.md has every step): first the one-folder bundle with
; installer/foodarchive.spec (dist\FoodArchive\), then, from the repository root,
;     ISCC /DAppVersion=0.1.0 installer\foodarchive.iss
; installer\build_windows.ps1 does both and passes the version of pyproject.toml,
; the project's one version number. Needs Inno Setup 6.3 or later.
;
; What it does:
; - installs for the current user only (no administrator rights, into
;   %LOCALAPPDATA%\Programs) or for all users (Program Files): Setup asks;
;   /ALLUSERS or /CURRENTUSER on the command line choose without asking;
; - Start-menu and (optionally) desktop shortcuts named 食品质量技术档案, with
;   the application's icon;
; - never touches the user's data: the database, backups and logs live in the
;   user's data folder (%LOCALAPPDATA%\FoodArchive\FoodArchive), settings in
;   HKCU\Software\FoodArchive, passwords in the Windows Credential Manager;
;   upgrading and uninstalling leave all of them in place;
; - optionally registers the headless upload (`upload --once`) with the
;   Windows Task Scheduler for the user who runs Setup; uninstalling removes it.

#ifndef AppVersion
  #error Pass the version of pyproject.toml: ISCC /DAppVersion=x.y.z installer\foodarchive.iss
#endif
#ifndef AppNumericVersion
  #define AppNumericVersion AppVersion
#endif
#ifndef BundleDir
  #define BundleDir "..\dist\FoodArchive"
#endif
#ifndef UploadEveryMinutes
  #define UploadEveryMinutes "15"
#endif
#define AppName "食品质量技术档案"
#define AppExe "FoodArchive.exe"
#define UploadTaskName "FoodArchive\Upload"
; The Chinese messages of Setup itself are a translation Inno Setup does not
; ship (it is one of its unofficial translations): put ChineseSimplified.isl
; next to this script or into Inno Setup's Languages folder, or name it with
; /DChineseMessages=<file> (installer/README.md). Without it Setup speaks
; English; the shortcuts and the task texts below are Chinese either way.
#ifndef ChineseMessages
  #if FileExists(AddBackslash(SourcePath) + "ChineseSimplified.isl")
    #define ChineseMessages AddBackslash(SourcePath) + "ChineseSimplified.isl"
  #elif FileExists(CompilerPath + "Languages\ChineseSimplified.isl")
    #define ChineseMessages "compiler:Languages\ChineseSimplified.isl"
  #endif
#endif
#define HaveChinese Defined(ChineseMessages)

[Setup]
; The AppId never changes: it is how a new version finds and replaces the old one.
AppId={{7A3E5C1D-4B8F-4E2A-9C6D-2F1B0E8A5D34}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=FoodArchive
VersionInfoVersion={#AppNumericVersion}
VersionInfoProductName={#AppName}
VersionInfoDescription={#AppName} 安装程序
DefaultDirName={autopf}\FoodArchive
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per user without administrator rights by default; Setup offers "for all users".
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
SetupIconFile=..\resources\icons\foodarchive.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
OutputDir=..\dist
OutputBaseFilename=FoodArchive-Setup-{#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; A running copy is closed (Restart Manager) before its files are replaced.
CloseApplications=yes
RestartApplications=no

[Languages]
#if HaveChinese
Name: "chinesesimplified"; MessagesFile: "{#ChineseMessages}"
#endif
Name: "english"; MessagesFile: "compiler:Default.isl"

[CustomMessages]
english.UploadTask=Upload to the traceability platform every {#UploadEveryMinutes} minutes (Windows Task Scheduler)
english.UploadGroup=Scheduled upload:
english.LaunchApp=Start 食品质量技术档案
#if HaveChinese
chinesesimplified.UploadTask=每 {#UploadEveryMinutes} 分钟自动上传到追溯平台（Windows 任务计划程序）
chinesesimplified.UploadGroup=定时上传：
chinesesimplified.LaunchApp=启动食品质量技术档案
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"
Name: "uploadtask"; Description: "{cm:UploadTask}"; GroupDescription: "{cm:UploadGroup}"; Flags: unchecked

[InstallDelete]
; The previous version's program files go first, so no stale library of an
; older bundle stays behind. Only the install folder: user data is elsewhere.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; IconFilename: "{app}\{#AppExe}"; Comment: "一品一批一建档"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; IconFilename: "{app}\{#AppExe}"; Comment: "一品一批一建档"; Tasks: desktopicon

[Run]
; The scheduled upload runs the windowed program (no console flashes up every
; quarter hour); its messages go to the log in the user's data folder. It runs
; as the user who started Setup, whose saved platform password it needs.
; /F replaces the task of an earlier install, so an upgrade keeps it current.
Filename: "{sys}\schtasks.exe"; \
    Parameters: "/Create /F /TN ""{#UploadTaskName}"" /SC MINUTE /MO {#UploadEveryMinutes} /TR ""\""{app}\{#AppExe}\"" upload --once"""; \
    Flags: runhidden runasoriginaluser waituntilterminated; Tasks: uploadtask; StatusMsg: "{cm:UploadTask}"
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchApp}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; Remove the scheduled upload (if it was never registered, schtasks just fails quietly).
Filename: "{sys}\schtasks.exe"; Parameters: "/Delete /F /TN ""{#UploadTaskName}"""; Flags: runhidden; RunOnceId: "DeleteUploadTask"

; No [UninstallDelete] entry: the user's database, backups, logs and settings
; stay after uninstalling, ready for the next install.
