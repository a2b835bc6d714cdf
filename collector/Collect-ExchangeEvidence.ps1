#Requires -Version 5.1
#Requires -RunAsAdministrator
<#
.SYNOPSIS
    Collects Exchange ProxyLogon/ProxyShell evidence from this server into an exhunt case zip, read-only.

.DESCRIPTION
    For servers where Node.js cannot be installed. Gathers the evidence set of exhunt's case format
    (docs/case-format.md): Exchange logs, IIS logs, event logs, web folders and drop zones, IIS configuration,
    plus ExSetup.exe's file version, Exchange server and virtual-directory configuration, IIS URL Rewrite rules
    and app-pool / service state. Writes one zip: manifest.json (SHA-256, size, UTC times, original path of
    every file), manifest.csv, custody.log and files\<drive>\<original path>, and a seal record
    (<zip>.custody.log) next to it. Analyse with: exhunt verify <zip>; exhunt scan <zip>.

    Read-only: source files are opened for reading only and shared for read/write/delete with their writers;
    nothing under the collected folders is written, moved, renamed or re-timed. Live event logs are exported
    with wevtutil into a private work folder next to the output, which is deleted at the end.
    Locked or vanished files are recorded in the manifest, never fatal.

    Interrupted or failed (Ctrl-C, disk full): <zip>.incomplete is written before anything else and removed only
    once the seal is written, as exhunt collect does, so `exhunt verify` refuses the case (exit 4) and a re-run
    needs -Replace.

.PARAMETER OutputPath
    The zip to create (must not exist). Prefer another volume or a network share.

.PARAMETER ExchangePath
    Exchange install folder, when the registry value MsiInstallPath is missing or wrong.

.PARAMETER MaxTotalBytes
    Size cap: once this much has been copied, further files are listed in the manifest as not collected.

.PARAMETER Replace
    Collect again over a case an interrupted or failed run left incomplete (<zip>.incomplete beside it): only that
    zip, its seal and the marker are removed. A finished case is never replaced.

.EXAMPLE
    powershell.exe -ExecutionPolicy Bypass -File .\Collect-ExchangeEvidence.ps1 -OutputPath E:\cases\EX01.zip
#>
[CmdletBinding()]
param(
    [string]$OutputPath = (Join-Path $env:SystemDrive ('exhunt-collect\exhunt-{0}-{1}.zip' -f $env:COMPUTERNAME, [DateTime]::UtcNow.ToString('yyyyMMddTHHmmssZ'))),
    [string]$ExchangePath,
    [long]$MaxTotalBytes = 20GB,
    [switch]$Replace
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ScriptVersion = '0.1.0'
$ShareAll = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
Add-Type -AssemblyName System.IO.Compression

# What to collect: the same list, in the same order, as TARGETS in exhunt's src/response/collect.ts
# (a test compares them). Base 'system' = the system drive root, 'exchange' = the Exchange install folder.
$Targets = @(
    @{ Base = 'system'; Path = 'Windows\System32\inetsrv\config\applicationHost.config'; Kind = 'file'; Filter = ''; Top = '' }
    @{ Base = 'system'; Path = 'ExchangeSetupLogs'; Kind = 'tree'; Filter = '\.(log|txt)$'; Top = '' }
    @{ Base = 'system'; Path = 'inetpub\wwwroot'; Kind = 'tree'; Filter = ''; Top = '' }
    @{ Base = 'exchange'; Path = 'FrontEnd\HttpProxy\owa\auth'; Kind = 'tree'; Filter = ''; Top = '' }
    @{ Base = 'exchange'; Path = 'FrontEnd\HttpProxy\ecp\auth'; Kind = 'tree'; Filter = ''; Top = '' }
    @{ Base = 'exchange'; Path = 'ClientAccess\Owa\auth'; Kind = 'tree'; Filter = ''; Top = '' }
    @{ Base = 'exchange'; Path = 'FrontEnd\HttpProxy'; Kind = 'tree'; Filter = '\.(aspx|ashx|asmx|asax|ascx|asp|axd|cshtml|vbhtml|master|svc|config|cs|vb|php|jsp)$'; Top = '' }
    @{ Base = 'exchange'; Path = 'ClientAccess'; Kind = 'tree'; Filter = '\.(aspx|ashx|asmx|asax|ascx|asp|axd|cshtml|vbhtml|master|svc|config|cs|vb|php|jsp)$'; Top = '' }
    @{ Base = 'system'; Path = 'Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files'; Kind = 'tree'; Filter = '^App_Web_.*\.dll$'; Top = '' }
    @{ Base = 'system'; Path = 'Windows\Microsoft.NET\Framework\v4.0.30319\Temporary ASP.NET Files'; Kind = 'tree'; Filter = '^App_Web_.*\.dll$'; Top = '' }
    @{ Base = 'system'; Path = 'root'; Kind = 'tree'; Filter = '\.dmp$'; Top = '' }
    @{ Base = 'system'; Path = 'Windows\Temp'; Kind = 'tree'; Filter = '\.(dmp|bat|cmd|ps1|exe|dll|zip|7z|rar|cab)$'; Top = '' }
    @{ Base = 'system'; Path = 'ProgramData'; Kind = 'tree'; Filter = '\.(7z|zip|rar|cab|dmp|wer)$'; Top = '' }
    @{ Base = 'system'; Path = 'Users\Public'; Kind = 'tree'; Filter = '\.(exe|dll|bat|ps1|zip|7z|rar|dmp)$'; Top = '' }
    @{ Base = 'evtx'; Path = ''; Kind = 'evtx'; Filter = ''; Top = '' }
    @{ Base = 'system'; Path = 'ProgramData\Microsoft\Windows Defender\Support'; Kind = 'tree'; Filter = '^MP(?:Log|Detection)-.*\.log$'; Top = '' }
    @{ Base = 'system'; Path = 'inetpub\logs\LogFiles'; Kind = 'tree'; Filter = ''; Top = '^W3SVC\d*$' }
    @{ Base = 'exchange'; Path = 'Logging\HttpProxy'; Kind = 'tree'; Filter = ''; Top = '' }
    @{ Base = 'exchange'; Path = 'Logging\ECP\Server'; Kind = 'tree'; Filter = ''; Top = '' }
    @{ Base = 'exchange'; Path = 'Logging\ECP\Activity'; Kind = 'tree'; Filter = ''; Top = '' }
    @{ Base = 'exchange'; Path = 'Logging\OABGeneratorLog'; Kind = 'tree'; Filter = ''; Top = '' }
    @{ Base = 'exchange'; Path = 'Logging\Ews'; Kind = 'tree'; Filter = ''; Top = '' }
    @{ Base = 'exchange'; Path = 'Logging\CmdletInfra'; Kind = 'tree'; Filter = ''; Top = '' }
    @{ Base = 'exchange'; Path = 'Logging\MitigationService'; Kind = 'tree'; Filter = ''; Top = '' }
)

# Event log file name -> channel (for wevtutil when the live file is locked by the Event Log service).
$EventLogs = @(
    @{ File = 'Application.evtx'; Channel = 'Application' }
    @{ File = 'MSExchange Management.evtx'; Channel = 'MSExchange Management' }
    @{ File = 'Security.evtx'; Channel = 'Security' }
    @{ File = 'System.evtx'; Channel = 'System' }
    @{ File = 'Microsoft-Windows-Sysmon%4Operational.evtx'; Channel = 'Microsoft-Windows-Sysmon/Operational' }
    @{ File = 'Microsoft-Windows-PowerShell%4Operational.evtx'; Channel = 'Microsoft-Windows-PowerShell/Operational' }
    @{ File = 'Windows PowerShell.evtx'; Channel = 'Windows PowerShell' }
    @{ File = 'Microsoft-Windows-Windows Defender%4Operational.evtx'; Channel = 'Microsoft-Windows-Windows Defender/Operational' }
)

# ---- small helpers --------------------------------------------------------------------------------------------

function Format-Utc([DateTime]$Time) {
    if ($Time.Year -lt 1601) { return $null }
    return $Time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", [Globalization.CultureInfo]::InvariantCulture)
}

function Convert-ToHex([byte[]]$Bytes) {
    return ([BitConverter]::ToString($Bytes) -replace '-', '').ToLowerInvariant()
}

# `C:\a\b` -> `files/C/a/b`; a backslash cannot occur inside a Windows name, control characters are encoded.
function Get-CasePath([string]$FullName) {
    $drive = $FullName.Substring(0, 1).ToUpperInvariant()
    $parts = $FullName.Substring(3).Split('\') | ForEach-Object {
        [regex]::Replace($_, '[\x00-\x1f]', { param($m) '%{0:X2}' -f [int][char]$m.Value })
    }
    return 'files/' + $drive + '/' + ($parts -join '/')
}

function Test-IsLink([System.IO.FileSystemInfo]$Item) {
    return [bool]($Item.Attributes -band [System.IO.FileAttributes]::ReparsePoint)
}

function Add-CollectionError([string]$Original, [string]$Message) {
    $script:Errors.Add([ordered]@{ original = $Original; error = $Message })
}

# The incomplete marker (exhunt's case format: JSON beside the case, as `exhunt collect` writes it). Written before the
# zip is created and removed only after the seal: whatever stops the collection leaves the case marked.
function Set-Marker([string]$State) {
    $record = [ordered]@{ state = $State; started = $script:started; updated = (Format-Utc ([DateTime]::UtcNow)); command_line = [Environment]::CommandLine; pid = $PID }
    [System.IO.File]::WriteAllText($script:Marker, (ConvertTo-Json -InputObject $record -Compress) + "`n", (New-Object System.Text.UTF8Encoding($false)))
}

# ---- the zip --------------------------------------------------------------------------------------------------

function New-CaseZip([string]$Path) {
    $script:ZipStream = [System.IO.File]::Open($Path, [System.IO.FileMode]::CreateNew, [System.IO.FileAccess]::ReadWrite, [System.IO.FileShare]::None)
    $script:Zip = New-Object System.IO.Compression.ZipArchive($script:ZipStream, [System.IO.Compression.ZipArchiveMode]::Create, $false)
}

function Add-ZipBytes([string]$CasePath, [byte[]]$Bytes) {
    $entry = $script:Zip.CreateEntry($CasePath, [System.IO.Compression.CompressionLevel]::Optimal)
    $out = $entry.Open()
    try { $out.Write($Bytes, 0, $Bytes.Length) } finally { $out.Dispose() }
}

# Streams one source file into the zip while hashing it. Opened read-only, shared with the writer.
function Add-ZipFile([string]$Source, [string]$CasePath, [DateTime]$LastWriteUtc) {
    $in = [System.IO.File]::Open($Source, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, $script:ShareAll)
    $sha = [System.Security.Cryptography.SHA256]::Create()
    $problems = New-Object System.Collections.Generic.List[string]
    $total = [long]0
    try {
        $entry = $script:Zip.CreateEntry($CasePath, [System.IO.Compression.CompressionLevel]::Optimal)
        if ($LastWriteUtc.Year -ge 1980) { $entry.LastWriteTime = New-Object DateTimeOffset($LastWriteUtc) }
        $out = $entry.Open()
        try {
            $buffer = New-Object byte[] (1MB)
            while ($true) {
                try { $n = $in.Read($buffer, 0, $buffer.Length) } catch {
                    $problems.Add(('read failed after {0} bytes: {1}; copy is partial' -f $total, $_.Exception.Message))
                    break
                }
                if ($n -le 0) { break }
                [void]$sha.TransformBlock($buffer, 0, $n, $null, 0)
                $out.Write($buffer, 0, $n)
                $total += $n
            }
        } finally { $out.Dispose() }
        [void]$sha.TransformFinalBlock((New-Object byte[] 0), 0, 0)
        return @{ Size = $total; Sha256 = (Convert-ToHex $sha.Hash); Problems = $problems.ToArray() }
    } catch {
        # Reads are handled above: this is a write to the case that failed (disk full, I/O error). Unlike a source
        # that cannot be read, it ends the collection (as in exhunt collect); the case stays marked incomplete.
        $script:CaseWriteFailed = $true
        throw
    } finally {
        $in.Dispose()
        $sha.Dispose()
    }
}

# ---- collecting -----------------------------------------------------------------------------------------------

function Add-EvidenceFile([System.IO.FileInfo]$File) {
    $original = $File.FullName
    if ($script:Excluded -contains $original -or -not $script:Collected.Add($original)) { return }
    if ($script:Bytes + $File.Length -gt $MaxTotalBytes) {
        Add-CollectionError $original ('size cap of {0} bytes reached: not collected' -f $MaxTotalBytes)
        return
    }
    if ($script:ProgressClock.ElapsedMilliseconds -ge 250) {
        # Write-Progress is slow in Windows PowerShell: update it a few times a second, not per file.
        Write-Progress -Activity 'Collecting Exchange evidence' -Status ('{0} files, {1:N1} MB' -f $script:Files.Count, ($script:Bytes / 1MB)) -CurrentOperation $original
        $script:ProgressClock.Restart()
    }
    # Times are read before the file is opened; reading metadata changes nothing.
    $mtime = $File.LastWriteTimeUtc
    $atime = $File.LastAccessTimeUtc
    $btime = $File.CreationTimeUtc
    $casePath = Get-CasePath $original
    try {
        $copy = Add-ZipFile -Source $original -CasePath $casePath -LastWriteUtc $mtime
    } catch {
        if ($script:CaseWriteFailed) { throw }
        Add-CollectionError $original ('not collected: ' + $_.Exception.Message)
        return
    }
    $problems = @($copy.Problems)
    if ($problems.Count -eq 0 -and $copy.Size -ne $File.Length) {
        $problems += ('size changed while copying: {0} bytes before, {1} read' -f $File.Length, $copy.Size)
    }
    $record = [ordered]@{
        kind = 'file'; original = $original; path = $casePath; size = $copy.Size; sha256 = $copy.Sha256
        mtime = (Format-Utc $mtime); ctime = $null; atime = (Format-Utc $atime); btime = (Format-Utc $btime)
        errors = [string[]]$problems
    }
    $script:Files.Add($record)
    $script:Bytes += $copy.Size
}

function Add-Tree([string]$Root, [string]$Filter, [string]$Top) {
    $pending = New-Object System.Collections.Generic.Stack[object]
    $pending.Push(@($Root, 0))
    while ($pending.Count -gt 0) {
        $item = $pending.Pop()
        $dir = [string]$item[0]
        $depth = [int]$item[1]
        try { $children = @(Get-ChildItem -LiteralPath $dir -Force -ErrorAction Stop | Sort-Object Name -Descending) } catch {
            Add-CollectionError $dir ('folder not readable: ' + $_.Exception.Message)
            continue
        }
        foreach ($child in $children) {
            if (Test-IsLink $child) {
                Add-CollectionError $child.FullName 'symbolic link or junction: not followed'
            } elseif ($child.PSIsContainer) {
                if ($depth -gt 0 -or -not $Top -or $child.Name -match $Top) { $pending.Push(@($child.FullName, ($depth + 1))) }
            } elseif (($depth -gt 0 -or -not $Top) -and (-not $Filter -or $child.Name -match $Filter)) {
                Add-EvidenceFile -File $child
            }
        }
    }
}

function Add-EventLogs([string]$LogDir) {
    foreach ($log in $script:EventLogs) {
        $path = Join-Path $LogDir $log.File
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { continue }
        $file = Get-Item -LiteralPath $path -Force
        $before = $script:Files.Count
        $errorsBefore = $script:Errors.Count
        Add-EvidenceFile -File $file
        if ($script:Files.Count -gt $before -or $script:Errors.Count -eq $errorsBefore) { continue }
        if ($script:Errors[$script:Errors.Count - 1].error -notlike 'not collected:*') { continue }
        # Live channels are held open exclusively by the Event Log service: export them instead.
        $script:Errors.RemoveRange($errorsBefore, $script:Errors.Count - $errorsBefore)
        $export = Join-Path $script:WorkDir $log.File
        # Windows PowerShell turns a native command's stderr into errors; with 'Stop' they would throw.
        $ErrorActionPreference = 'Continue'
        & "$env:windir\System32\wevtutil.exe" epl $log.Channel $export 2>&1 | Out-Null
        $ErrorActionPreference = 'Stop'
        if ($LASTEXITCODE -ne 0 -or -not (Test-Path -LiteralPath $export)) {
            Add-CollectionError $path ('locked, and wevtutil epl failed with exit code {0}' -f $LASTEXITCODE)
            continue
        }
        $exported = Get-Item -LiteralPath $export
        $copy = Add-ZipFile -Source $export -CasePath (Get-CasePath $path) -LastWriteUtc $file.LastWriteTimeUtc
        $script:Files.Add([ordered]@{
            kind = 'file'; original = $path; path = (Get-CasePath $path); size = $copy.Size; sha256 = $copy.Sha256
            mtime = (Format-Utc $file.LastWriteTimeUtc); ctime = $null; atime = (Format-Utc $file.LastAccessTimeUtc); btime = (Format-Utc $file.CreationTimeUtc)
            errors = [string[]]@($copy.Problems)
            note = ('exported with wevtutil epl "{0}" at {1} (the live file is locked): an export, not a byte copy; {2} bytes' -f $log.Channel, (Format-Utc ([DateTime]::UtcNow)), $exported.Length)
        })
        $script:Bytes += $copy.Size
    }
}

# Runs one configuration query and stores its text output under commands\ (kind 'command').
function Add-CommandOutput([string]$Name, [string]$CommandText, [scriptblock]$Query) {
    # Error output of the query is kept in the text (2>&1); only a terminating error skips the entry.
    $ErrorActionPreference = 'Continue'
    try {
        $text = (& $Query 2>&1 | Out-String -Width 4096)
    } catch {
        Add-CollectionError $CommandText ('command failed: ' + $_.Exception.Message)
        return
    }
    $bytes = (New-Object System.Text.UTF8Encoding($false)).GetBytes($text)
    $casePath = 'commands/' + $Name
    Add-ZipBytes -CasePath $casePath -Bytes $bytes
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try { $hash = Convert-ToHex $sha.ComputeHash($bytes) } finally { $sha.Dispose() }
    $now = Format-Utc ([DateTime]::UtcNow)
    $script:Files.Add([ordered]@{
        kind = 'command'; original = $CommandText; path = $casePath; size = $bytes.Length; sha256 = $hash
        mtime = $now; ctime = $null; atime = $null; btime = $null; errors = [string[]]@()
    })
}

function Add-Configuration {
    $appcmd = "$env:windir\System32\inetsrv\appcmd.exe"
    if (Test-Path -LiteralPath $appcmd) {
        Add-CommandOutput 'iis-rewrite-rules.txt' 'appcmd list config "Default Web Site" -section:system.webServer/rewrite/rules' { & $appcmd list config 'Default Web Site' '-section:system.webServer/rewrite/rules' }
        Add-CommandOutput 'iis-rewrite-globalrules.txt' 'appcmd list config -section:system.webServer/rewrite/globalRules' { & $appcmd list config '-section:system.webServer/rewrite/globalRules' }
        Add-CommandOutput 'iis-apppools.txt' 'appcmd list apppool /config:*' { & $appcmd list apppool '/config:*' }
        Add-CommandOutput 'iis-sites.txt' 'appcmd list site /config:*' { & $appcmd list site '/config:*' }
    }
    Add-CommandOutput 'iis-urlrewrite-module.txt' 'Get-Item $env:windir\System32\inetsrv\rewrite.dll' {
        $dll = Join-Path $env:windir 'System32\inetsrv\rewrite.dll'
        if (Test-Path -LiteralPath $dll) { (Get-Item -LiteralPath $dll).VersionInfo | Select-Object FileVersion, ProductVersion | Format-List } else { 'IIS URL Rewrite module not installed' }
    }
    Add-CommandOutput 'services.txt' 'Get-Service MSExchange*' {
        Get-Service -Name 'MSExchange*' -ErrorAction SilentlyContinue | Select-Object Name, Status, StartType | Format-Table -AutoSize
    }
    # Registry values the configuration controls read (exhunt EXP-EP, EXP-SDS), written as a .reg export.
    Add-CommandOutput 'registry-exposure.reg' 'Get-ItemProperty HKLM\SYSTEM\CurrentControlSet\Control\Lsa, HKLM\SOFTWARE\Microsoft\ExchangeServer\v15\Diagnostics' { Get-RegExport }
    if (-not (Get-PSSnapin -Name 'Microsoft.Exchange.Management.PowerShell.SnapIn' -ErrorAction SilentlyContinue)) {
        try { Add-PSSnapin -Name 'Microsoft.Exchange.Management.PowerShell.SnapIn' } catch {
            Add-CollectionError 'Add-PSSnapin Microsoft.Exchange.Management.PowerShell.SnapIn' ('Exchange cmdlets unavailable: ' + $_.Exception.Message)
            return
        }
    }
    $server = $env:COMPUTERNAME
    Add-CommandOutput 'exchange-server.txt' "Get-ExchangeServer -Identity $server | Format-List" { Get-ExchangeServer -Identity $server | Format-List * }
    # OAB ExternalUrl is where CVE-2021-27065 planted its web shell code.
    $vdirs = 'Get-OabVirtualDirectory', 'Get-EcpVirtualDirectory', 'Get-OwaVirtualDirectory', 'Get-WebServicesVirtualDirectory',
        'Get-AutodiscoverVirtualDirectory', 'Get-ActiveSyncVirtualDirectory', 'Get-MapiVirtualDirectory', 'Get-PowerShellVirtualDirectory'
    foreach ($cmd in $vdirs) {
        Add-CommandOutput ('vdir-' + $cmd.Substring(4) + '.txt') "$cmd -Server $server -ADPropertiesOnly | Format-List" {
            & $cmd -Server $server -ADPropertiesOnly | Format-List Identity, Name, Server, InternalUrl, ExternalUrl, WhenChanged, *Authentication*
        }
    }
    Add-CommandOutput 'organization-mitigations.txt' 'Get-OrganizationConfig | Format-List *Mitigation*' { Get-OrganizationConfig | Format-List *Mitigation* }
    # Configuration controls (exhunt EXP-*): JSON that exhunt's exchange-config scanner reads by file name.
    Add-CommandOutput 'Get-SettingOverride.json' 'Get-SettingOverride | ConvertTo-Json' {
        Get-SettingOverride | Select-Object Name, Component, Section, @{ n = 'Parameters'; e = { @($_.Parameters) } }, @{ n = 'Server'; e = { @($_.Server | ForEach-Object { [string]$_ }) } }, @{ n = 'MinVersion'; e = { [string]$_.MinVersion } }, @{ n = 'MaxVersion'; e = { [string]$_.MaxVersion } }, Reason | ConvertTo-Json -Depth 3
    }
    Add-CommandOutput 'Get-OrganizationConfig.json' 'Get-OrganizationConfig | ConvertTo-Json' {
        Get-OrganizationConfig | Select-Object Name, MitigationsEnabled, EnableDownloadDomains | ConvertTo-Json
    }
    Add-CommandOutput 'Get-ExchangeServer.json' "Get-ExchangeServer -Identity $server | ConvertTo-Json" {
        Get-ExchangeServer -Identity $server | Select-Object Name, @{ n = 'AdminDisplayVersion'; e = { [string]$_.AdminDisplayVersion } }, MitigationsEnabled, @{ n = 'MitigationsApplied'; e = { @($_.MitigationsApplied) } }, @{ n = 'MitigationsBlocked'; e = { @($_.MitigationsBlocked) } }, DataCollectionEnabled | ConvertTo-Json -Depth 3
    }
    Add-CommandOutput 'Get-AuthServer.json' 'Get-AuthServer | ConvertTo-Json' {
        Get-AuthServer | Select-Object Name, @{ n = 'Type'; e = { [string]$_.Type } }, Enabled, ApplicationIdentifier | ConvertTo-Json
    }
    Add-CommandOutput 'Get-OwaVirtualDirectory.json' "Get-OwaVirtualDirectory -Server $server -ADPropertiesOnly | ConvertTo-Json" {
        Get-OwaVirtualDirectory -Server $server -ADPropertiesOnly | Select-Object Name, @{ n = 'InternalUrl'; e = { [string]$_.InternalUrl } }, @{ n = 'ExternalUrl'; e = { [string]$_.ExternalUrl } }, InternalDownloadHostName, ExternalDownloadHostName | ConvertTo-Json
    }
    # The overrides this server actually loaded, with their status (only Accepted ones apply; HealthChecker reads the same).
    Add-CommandOutput 'Get-ExchangeDiagnosticInfo-Overrides.xml' "Get-ExchangeDiagnosticInfo -Server $server -Process Microsoft.Exchange.Directory.TopologyService -Component VariantConfiguration -Argument Overrides" {
        (Get-ExchangeDiagnosticInfo -Server $server -Process 'Microsoft.Exchange.Directory.TopologyService' -Component 'VariantConfiguration' -Argument 'Overrides').Result
    }
    Add-CommandOutput 'Get-HybridConfiguration.json' 'Get-HybridConfiguration | ConvertTo-Json' {
        Get-HybridConfiguration | Select-Object Name, @{ n = 'Domains'; e = { @($_.Domains | ForEach-Object { [string]$_ }) } } | ConvertTo-Json -Depth 3
    }
}

# The DLLs applicationHost.config loads as IIS global modules, copied at their own path: exhunt reads their file
# version (TokenCacheModule's cachtokn.dll, CVE-2023-36434) and who signed them (EXP-IISMOD). Read-only.
function Add-IisModuleImages {
    $config = Join-Path $env:windir 'System32\inetsrv\config\applicationHost.config'
    if (-not (Test-Path -LiteralPath $config)) { return }
    try { $xml = [xml][System.IO.File]::ReadAllText($config) } catch {
        Add-CollectionError $config ('applicationHost.config not readable as XML: ' + $_.Exception.Message)
        return
    }
    $modules = $xml.SelectNodes('/configuration/system.webServer/globalModules/add')
    foreach ($m in $modules) {
        $image = [Environment]::ExpandEnvironmentVariables([string]$m.GetAttribute('image'))
        if ($image -eq '' -or -not (Test-Path -LiteralPath $image -PathType Leaf)) { continue }
        $item = Get-Item -LiteralPath $image -Force
        Add-EvidenceFile -File $item
    }
}

# The registry values the configuration controls need, in the .reg export format (DWORD values only).
function Get-RegExport {
    $lines = @('Windows Registry Editor Version 5.00', '')
    foreach ($key in 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Lsa', 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\ExchangeServer\v15\Diagnostics') {
        $props = Get-ItemProperty -LiteralPath ('Registry::' + $key) -ErrorAction SilentlyContinue
        if ($null -eq $props) { continue }
        $lines += '[' + $key + ']'
        foreach ($name in 'SuppressExtendedProtection', 'EnableSerializationDataSigning', 'DisableBaseTypeCheckForDeserialization') {
            $p = $props.PSObject.Properties[$name]
            if ($null -ne $p -and $p.Value -is [int]) { $lines += ('"{0}"=dword:{1:x8}' -f $name, $p.Value) }
        }
        $lines += ''
    }
    $lines -join "`r`n"
}

function Get-ExchangeRoot {
    if ($ExchangePath) { return $ExchangePath }
    $setup = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\ExchangeServer\v15\Setup' -ErrorAction SilentlyContinue
    if ($setup -and ($setup.PSObject.Properties.Name -contains 'MsiInstallPath')) { return [string]$setup.MsiInstallPath }
    if ($env:ExchangeInstallPath) { return $env:ExchangeInstallPath }
    return Join-Path $env:ProgramFiles 'Microsoft\Exchange Server\V15\'
}

function Get-ExSetupVersion([string]$ExchangeRoot) {
    $exe = Join-Path $ExchangeRoot 'Bin\ExSetup.exe'
    if (-not (Test-Path -LiteralPath $exe -PathType Leaf)) { return $null }
    $v = (Get-Item -LiteralPath $exe).VersionInfo
    return '{0}.{1}.{2}.{3}' -f $v.FileMajorPart, $v.FileMinorPart, $v.FileBuildPart, $v.FilePrivatePart
}

function ConvertTo-CsvField($Value) {
    $s = if ($null -eq $Value) { '' } else { [string]$Value }
    if ($s -match '[",\r\n]') { return '"' + $s.Replace('"', '""') + '"' }
    return $s
}

function Get-ManifestCsv($Manifest) {
    $lines = New-Object System.Collections.Generic.List[string]
    $lines.Add('kind,original,path,size,sha256,mtime,ctime,atime,btime,errors')
    foreach ($f in $Manifest.files) {
        $lines.Add((@($f.kind, $f.original, $f.path, $f.size, $f.sha256, $f.mtime, $f.ctime, $f.atime, $f.btime, ($f.errors -join '; ')) | ForEach-Object { ConvertTo-CsvField $_ }) -join ',')
    }
    foreach ($e in $Manifest.errors) {
        $lines.Add((@('error', $e.original, '', '', '', '', '', '', '', $e.error) | ForEach-Object { ConvertTo-CsvField $_ }) -join ',')
    }
    return ($lines -join "`r`n") + "`r`n"
}

function Get-CustodyLine($Manifest, [string]$Action, [string]$Sha256, [string]$Time) {
    $bytes = [long]0
    foreach ($f in $Manifest.files) { $bytes += $f.size }
    $partial = @($Manifest.files | Where-Object { $_.errors.Count -gt 0 }).Count
    $c = $Manifest.collector
    $record = [ordered]@{
        time = $Time; action = $Action; user = $c.user; host = $c.host; tool = $c.tool; version = $c.version
        command_line = $c.command_line; server = $Manifest.server.host; sources = $c.sources; case = $OutputPath
        sha256 = $Sha256; files = $Manifest.files.Count; bytes = $bytes; errors = ($Manifest.errors.Count + $partial)
    }
    return (ConvertTo-Json -InputObject $record -Compress -Depth 5) + "`n"
}

# ---- main -----------------------------------------------------------------------------------------------------

$OutputPath = [System.IO.Path]::GetFullPath($OutputPath)
$Marker = $OutputPath + '.incomplete'
$SealPath = $OutputPath + '.custody.log'
if ((Test-Path -LiteralPath $OutputPath) -or (Test-Path -LiteralPath $SealPath)) {
    if (-not (Test-Path -LiteralPath $Marker)) { throw "Output $OutputPath exists: choose a new file name." }
    if (-not $Replace) { throw "$OutputPath is an incomplete case ($Marker): collect again with -Replace" }
    # Only the incomplete case this script wrote: its zip and its seal (the marker is rewritten below).
    foreach ($own in $OutputPath, $SealPath) { if (Test-Path -LiteralPath $own) { Remove-Item -LiteralPath $own -Force } }
}
$started = Format-Utc ([DateTime]::UtcNow)
$Files = New-Object System.Collections.Generic.List[object]
# Originals already copied: targets overlap (the sign-in folders, a global module in Windows\Temp).
$Collected = New-Object 'System.Collections.Generic.HashSet[string]' ([StringComparer]::OrdinalIgnoreCase)
$Errors = New-Object System.Collections.Generic.List[object]
$Bytes = [long]0
$CaseWriteFailed = $false
$ProgressClock = [System.Diagnostics.Stopwatch]::StartNew()
$WorkDir = Join-Path (Split-Path -Parent $OutputPath) ('.exhunt-work-' + [guid]::NewGuid().ToString('N'))
$Excluded = @($OutputPath)
$exRoot = Get-ExchangeRoot
$exFound = Test-Path -LiteralPath $exRoot -PathType Container
if (-not $exFound) { Add-CollectionError $exRoot 'Exchange install folder not found: Exchange logs and web folders not collected' }
$systemRoot = $env:SystemDrive + '\'

$outDir = Split-Path -Parent $OutputPath
if (-not (Test-Path -LiteralPath $outDir)) { New-Item -ItemType Directory -Path $outDir | Out-Null }
try { Set-Marker 'collecting' } catch { throw ('cannot write the case: {0}; nothing was collected' -f $_.Exception.Message) }
$sealed = $false
$failure = $null
$Zip = $null
$ZipStream = $null
try {
    try {
        New-CaseZip -Path $OutputPath
        New-Item -ItemType Directory -Path $WorkDir | Out-Null
        foreach ($t in $Targets) {
            if ($t.Kind -eq 'evtx') { Add-EventLogs (Join-Path $env:windir 'System32\winevt\Logs'); continue }
            if ($t.Base -eq 'exchange' -and -not $exFound) { continue }
            $base = if ($t.Base -eq 'exchange') { $exRoot } else { $systemRoot }
            $path = Join-Path $base $t.Path
            if ($t.Kind -eq 'file') {
                if (Test-Path -LiteralPath $path -PathType Leaf) { Add-EvidenceFile -File (Get-Item -LiteralPath $path -Force) }
            } elseif (Test-Path -LiteralPath $path -PathType Container) {
                Add-Tree -Root $path -Filter $t.Filter -Top $t.Top
            }
        }
        Add-Configuration
        Add-IisModuleImages

        $exPath = if ($exFound) { $exRoot.TrimEnd('\') + '\' } else { $null }
        $drives = @($Files | Where-Object { $_.kind -eq 'file' } | ForEach-Object { $_.original.Substring(0, 1).ToUpperInvariant() } | Sort-Object -Unique)
        $Manifest = [ordered]@{
            schema = 'exhunt.case/1'
            server = [ordered]@{ host = $env:COMPUTERNAME; exchange_path = $exPath; exsetup_version = $(if ($exFound) { Get-ExSetupVersion $exRoot } else { $null }) }
            collector = [ordered]@{
                tool = 'Collect-ExchangeEvidence.ps1'; version = $ScriptVersion; command_line = [Environment]::CommandLine
                user = [Security.Principal.WindowsIdentity]::GetCurrent().Name; host = $env:COMPUTERNAME; platform = 'win32'; live = $true
                started = $started; finished = (Format-Utc ([DateTime]::UtcNow))
                sources = [object[]]@($drives | ForEach-Object { [ordered]@{ drive = $_; path = ($_ + ':\') } })
                size_cap_bytes = $MaxTotalBytes
            }
            files = $Files.ToArray()
            errors = $Errors.ToArray()
        }
        $utf8 = New-Object System.Text.UTF8Encoding($false)
        $json = $utf8.GetBytes((ConvertTo-Json -InputObject $Manifest -Depth 6) + "`n")
        Add-ZipBytes -CasePath 'manifest.json' -Bytes $json
        Add-ZipBytes -CasePath 'manifest.csv' -Bytes $utf8.GetBytes((Get-ManifestCsv $Manifest))
        $sha = [System.Security.Cryptography.SHA256]::Create()
        try { $manifestHash = Convert-ToHex $sha.ComputeHash($json) } finally { $sha.Dispose() }
        Add-ZipBytes -CasePath 'custody.log' -Bytes $utf8.GetBytes((Get-CustodyLine $Manifest 'collect' $manifestHash $Manifest.collector.finished))
    } finally {
        Write-Progress -Activity 'Collecting Exchange evidence' -Completed
        if ($Zip) { $Zip.Dispose() }
        if ($ZipStream) { $ZipStream.Dispose() }
        # Only the collector's own work folder (wevtutil exports) is ever deleted.
        if (Test-Path -LiteralPath $WorkDir) { Remove-Item -LiteralPath $WorkDir -Recurse -Force }
    }

    # A zip cannot hold its own hash: seal it with a record next to it.
    $zipHash = (Get-FileHash -LiteralPath $OutputPath -Algorithm SHA256).Hash.ToLowerInvariant()
    [System.IO.File]::AppendAllText($SealPath, (Get-CustodyLine $Manifest 'seal' $zipHash (Format-Utc ([DateTime]::UtcNow))), $utf8)
    $sealed = $true
} catch {
    # A write to the case failed (disk full, I/O error): the case stays marked incomplete.
    $failure = $_.Exception.Message
} finally {
    # Also reached on Ctrl-C (the pipeline is stopped: catch is skipped, finally runs).
    if ($sealed) { Remove-Item -LiteralPath $Marker -Force }
    else {
        $why = if ($null -ne $failure) { 'failed: ' + $failure } else { 'interrupted' }
        try { Set-Marker ('{0} after {1} files' -f $why, $Files.Count) } catch { }
    }
}
if (-not $sealed) {
    [Console]::Error.WriteLine(('Collect-ExchangeEvidence: cannot write the case: {0}; {1} is incomplete (marked by {2}): collect again with -Replace' -f $failure, $OutputPath, $Marker))
    exit 4
}
Write-Host ('{0} files ({1:N1} MB) collected into {2}; {3} not collected (see manifest.json "errors").' -f $Files.Count, ($Bytes / 1MB), $OutputPath, $Errors.Count)
Write-Host ('Seal: {0} (SHA-256 of the zip). Record it outside the case (ticket, notes).' -f $zipHash)
Write-Host 'Next: exhunt verify <zip> --expect <seal>; exhunt scan <zip>'
