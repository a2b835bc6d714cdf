// Content signatures for web shells and post-exploitation artefacts, as data plus one small matcher.
// Every term is base64 so the installed scanner carries no plain web-shell text for antivirus to flag
// (cert-lv README; Loki #85/#210). Decode one with: node -p "Buffer.from('<b64>','base64').toString()".
// A term is a lower-case literal, or 're:' + a regular expression (case-insensitive), matched against the
// file's text (Latin-1, and UTF-16LE too when the file is wide). Sources are cited per signature.
// A new regex needs a shortest match in test/content-prefilter.test.ts (WITNESS): it checks the literal guarding it.
import type { RuleMeta } from '../types.js';

/** One alternative: the file is at most `max` bytes, has every `all` term, at least one `any` term, no `none` term. */
interface Condition {
  max: number;
  all?: string[];
  any?: string[];
  none?: string[];
}
export interface ContentSignature extends RuleMeta {
  when: Condition[];
}

const notLive = (id: string): string => `${id} not live`;

/** The grade of a web-shell signature found in a file the web server would not run (none when it is high anyway). */
export const notLiveGrade = (sig: ContentSignature): string | undefined => sig.grades?.find((g) => g.as === notLive(sig.id))?.as;

/** Web-shell signatures above high are graded high where the page cannot run (a .txt dump, a script). */
function withNotLive(sig: ContentSignature): ContentSignature {
  if (sig.kind !== 'webshell' || sig.severity === 'high') return sig;
  const when = 'the file is not a web script (a text dump, a script): evidence of the shell, not a page the server runs';
  return { ...sig, grades: [...(sig.grades ?? []), { as: notLive(sig.id), severity: 'high', kind: 'webshell', when }] };
}

const RAW: ContentSignature[] = [
  {
    id: 'WS-20',
    title: "China Chopper (HAFNIUM JScript variant)",
    cves: [],
    severity: 'critical',
    kind: 'webshell',
    references: ["Neo23x0/signature-base yara/apt_hafnium.yar (APT_WEBSHELL_HAFNIUM_Chopper_WebShell)"],
    description: "JScript Page_Load that evals a request parameter, or the C# dropper that writes a posted file.",
    when: [
      { max: 10240, all: ['cnVuYXQ9InNlcnZlciI+'], any: ['PHNjcmlwdCBsYW5ndWFnZT0ianNjcmlwdCIgcnVuYXQ9InNlcnZlciI+ZnVuY3Rpb24gcGFnZV9sb2FkKCl7ZXZhbChyZXF1ZXN0', 'PHNjcmlwdCBsYW5ndWFnZT0ianNjcmlwdCIgcnVuYXQ9InNlcnZlciI+IGZ1bmN0aW9uIHBhZ2VfbG9hZCgpe2V2YWwgKHJlcXVlc3RbIg==', 'cHJvdGVjdGVkIHZvaWQgcGFnZV9sb2FkKG9iamVjdCBzZW5kZXIsIGV2ZW50YXJncyBlKXtzeXN0ZW0uaW8uc3RyZWFtd3JpdGVyIHN3ID0gbmV3IHN5c3RlbS5pby5zdHJlYW13cml0ZXIocmVxdWVzdC5mb3JtWyJwIl0gLCBmYWxzZSwgZW5jb2RpbmcuZGVmYXVsdCk7c3cud3JpdGUocmVxdWVzdC5mb3JtWyJmIl0pOw=='] },
    ],
  },
  {
    id: 'WS-21',
    title: "China Chopper (generic one-liner)",
    cves: [],
    severity: 'critical',
    kind: 'webshell',
    references: ["Neo23x0/signature-base yara/apt_webshell_chinachopper.yar (ChinaChopper_Generic)"],
    description: "A JScript page whose body is eval(Request.Item[...],\"unsafe\").",
    when: [
      { max: 307200, all: ['cmU6PCVAXHMqcGFnZVxzK2xhbmd1YWdlPS5qc2NyaXB0LiU+XHMqPCVccypldmFsXChyZXF1ZXN0XC5pdGVtXFtbXHNcU117MCwxMDB9dW5zYWZl'], none: ['Z2V0IC8=', 'cG9zdCAv'] },
    ],
  },
  {
    id: 'WS-22',
    title: "HAFNIUM web shell (CISA MAR-10328929)",
    cves: [],
    severity: 'critical',
    kind: 'webshell',
    references: ["Neo23x0/signature-base yara/apt_hafnium.yar (WEBSHELL_HAFNIUM_CISA_10328929_01)","https://www.cisa.gov/news-events/analysis-reports/ar21-072d"],
    description: "eval(Request[\"…\"],\"unsafe\"), eval((Request.Item[…])),\"unsafe\") or a StreamWriter fed by Request.Form.",
    when: [
      { max: 1048576, all: ['cmU6ZXZhbFwocmVxdWVzdFxbIltcc1xTXXsxLDMyfSJcXSwidW5zYWZlIlwp'] },
      { max: 1048576, all: ['ZXZhbCg=', 'cmU6XChyZXF1ZXN0XC5pdGVtXFtbXHNcU117MSwzNn1cXVwpXCksInVuc2FmZSJcKQ=='] },
      { max: 1048576, all: ['cmU6aW9cLnN0cmVhbXdyaXRlclwocmVxdWVzdFwuZm9ybVxbW1xzXFNdezEsMjR9XF0=', 'cmU6d3JpdGVcKHJlcXVlc3RcLmZvcm1cW1tcc1xTXXsxLDI0fVxd'] },
    ],
  },
  {
    id: 'WS-24',
    title: "Obfuscated China Chopper in OAB ExternalUrl",
    cves: [],
    severity: 'critical',
    kind: 'webshell',
    references: ["Neo23x0/signature-base yara/apt_hafnium.yar (WEBSHELL_ASPX_Chopper_Like_Mar21_1)"],
    description: "The _0x-obfuscated JScript Page_Load written through the OAB virtual directory.",
    when: [
      { max: 3072, any: ['aHR0cDovL2YvPHNjcmlwdCBsYW5ndWFnZT0ianNjcmlwdCIgcnVuYXQ9InNlcnZlciI+dmFyIF8weA==', 'KSk7ZnVuY3Rpb24gcGFnZV9sb2FkKCl7dmFyIF8weA==', 'O2V2YWwocmVxdWVzdFtfMHg=', 'Jywnb3JhbmdlJywndW5zYWZlJywn'] },
    ],
  },
  {
    id: 'WS-25',
    title: "Tiny JScript/C# web shell (HAFNIUM)",
    cves: [],
    severity: 'critical',
    kind: 'webshell',
    references: ["Neo23x0/signature-base yara/apt_hafnium.yar (APT_WEBSHELL_Tiny_WebShell, APT_MAL_ASPX_HAFNIUM_Chopper_Mar21_3, _Mar21_4)"],
    description: "A few hundred bytes that eval a posted value, decode and eval base64, or save an uploaded file.",
    when: [
      { max: 300, all: ['PCVAIHBhZ2UgbGFuZ3VhZ2U9ImpzY3JpcHQiIGRlYnVnPXRydWUlPg==', 'PXJlcXVlc3QuZm9ybSgi', 'ZXZhbCg='] },
      { max: 850, all: ['PCVAcGFnZSBsYW5ndWFnZT0ianNjcmlwdCIlPg==', 'LmZyb21iYXNlNjRzdHJpbmco', 'ZXZhbChzeXN0ZW0udGV4dC5lbmNvZGluZy4='] },
      { max: 4096, all: ['cnVuYXQ9InNlcnZlciI+dm9pZCBwYWdlX2xvYWQob2JqZWN0', 'cmVxdWVzdC5maWxlc1swXS5zYXZlYXMoc2VydmVyLm1hcHBhdGgo'] },
    ],
  },
  {
    id: 'WS-30',
    title: "ProxyShell-era web shell markers",
    cves: [],
    severity: 'critical',
    kind: 'webshell',
    references: ["Neo23x0/signature-base yara/expl_proxyshell.yar (WEBSHELL_ASPX_ProxyShell_Aug15, _Exploitation_Aug21_1, WEBSHELL_ProxyShell_Exploitation_Nov21_1)"],
    description: "AppcacheVer/getErrorWord/eval/* markers, \");eval/*asf\", or the DropHell XSLT loader.",
    when: [
      { max: 1024, all: ['cGFnZSBsYW5ndWFnZQ=='], any: ['YXBwY2FjaGV2ZXI=', 'Z2V0ZXJyb3J3b3Jk', 'ZXZhbC8q'] },
      { max: 1048576, all: ['KTtldmFsLyphc2Y='] },
      { max: 1048576, all: ['LmxvYWR4bWwoc3lzdGVtLnRleHQuZW5jb2RpbmcudXRmOC5nZXRzdHJpbmcoc3lzdGVtLmNvbnZlcnQuZnJvbWJhc2U2NHN0cmluZyhyZXF1ZXN0Ww==', 'bmV3IHN5c3RlbS5pby5tZW1vcnlzdHJlYW0oKQ==', 'dHJhbnNmb3JtKA=='] },
    ],
  },
  {
    id: 'WS-32',
    title: "HAFNIUM post-exploitation artefact strings",
    cves: [],
    severity: 'high',
    kind: 'post-exploitation',
    references: ["Neo23x0/signature-base yara/apt_hafnium.yar (APT_HAFNIUM_Forensic_Artefacts_Mar21_1)"],
    description: "lsass dump to C:\\windows\\temp, c:\\ProgramData\\it.zip staging or a PowerCat reverse shell in a script or text file.",
    when: [
      { max: 1048576, any: ['bHNhc3MuZXhlIGM6XHdpbmRvd3NcdGVtcFxsc2Fzcw==', 'cG93ZXJjYXQucHMxJyk7IHBvd2VyY2F0IC1j', 'YzpccHJvZ3JhbWRhdGFcaXQuemlw'] },
    ],
  },
  {
    id: 'WS-33',
    title: "Known ASP.NET web-shell family",
    cves: [],
    severity: 'critical',
    kind: 'webshell',
    references: ["tennc/webshell (ASPXSpy, Antak, Godzilla, Behinder samples)","https://github.com/samratashok/nishang/tree/master/Antak-WebShell"],
    description: "ASPXSpy, Antak, Godzilla/Behinder encrypted loaders, XSLT-script shells or hex-obfuscated JScript eval.",
    when: [
      { max: 4194304, any: ['YXNweHNweQ=='] },
      { max: 4194304, all: ['YW50YWs=', 'cHJvY2Vzc3N0YXJ0aW5mbw=='] },
      { max: 1048576, all: ['cmlqbmRhZWxtYW5hZ2Vk', 'Y3JlYXRlZGVjcnlwdG9y'], any: ['YXNzZW1ibHkubG9hZA==', 'ZnJvbWJhc2U2NHN0cmluZyhjb250ZXh0LnJlcXVlc3Q=', 'cmVxdWVzdC5iaW5hcnlyZWFk'] },
      { max: 1048576, all: ['bXN4c2w6c2NyaXB0', 'eHNsY29tcGlsZWR0cmFuc2Zvcm0='], any: ['cmVxdWVzdC5pdGVt', 'cmVxdWVzdFs=', 'cmVxdWVzdC5mb3Jt'] },
      { max: 65536, all: ['anNjcmlwdA==', 'cmU6ZXZhbFxzKlwoW14pXXswLDgwfShcXHhbMC05YS1mXXsyfSl7Mix9'] },
    ],
  },
  {
    id: 'WS-34',
    title: "Credential stealer in an Exchange sign-in page (server side)",
    cves: [],
    severity: 'critical',
    kind: 'webshell',
    references: ["Positive Technologies Expert Security Center, May 2024: keylogger in the Exchange OWA main page since 2021 (ProxyShell), code added to logon.aspx writes the captured credentials to a file reachable from the internet; summaries https://rewterz.com/?p=32267","https://thenimblenerd.com/article/alert-keylogger-malware-hijacks-microsoft-exchange-servers-african-and-middle-eastern-entities-under-cyber-siege/ (summary of the PT ESC report)","MITRE ATT&CK T1056.003 (Input Capture: Web Portal Capture)"],
    description: "Code in an Exchange page (its own Inherits=\"Microsoft.Exchange.…\" directive kept) that writes files or sends data out, or any page that reads the sign-in form's password and writes or sends it: the sign-in page was modified to capture credentials.",
    when: [
      { max: 1048576, all: ['aW5oZXJpdHM=', 'cmU6aW5oZXJpdHNcc3swLDR9PVxzezAsNH1bIiddbWljcm9zb2Z0XC5leGNoYW5nZVwu'], any: ['ZmlsZS5hcHBlbmRhbGx0ZXh0KA==', 'ZmlsZS53cml0ZWFsbHRleHQo', 'ZmlsZS5hcHBlbmR0ZXh0KA==', 'ZmlsZS5hcHBlbmRhbGxsaW5lcyg=', 'ZmlsZS53cml0ZWFsbGxpbmVzKA==', 'bmV3IHN0cmVhbXdyaXRlcig=', 'bmV3IHN5c3RlbS5pby5zdHJlYW13cml0ZXIo', 'bmV3IGZpbGVzdHJlYW0o', 'bmV3IHN5c3RlbS5pby5maWxlc3RyZWFtKA==', 'ZmlsZXN5c3RlbS53cml0ZWFsbHRleHQo', 'bmV3IHdlYmNsaWVudCg=', 'bmV3IHN5c3RlbS5uZXQud2ViY2xpZW50KA==', 'd2VicmVxdWVzdC5jcmVhdGUo', 'LnVwbG9hZHN0cmluZyg='] },
      { max: 1048576, all: ['cmVxdWVzdA==', 'cmU6cmVxdWVzdCg/OlwuKD86Zm9ybXxwYXJhbXN8cXVlcnlzdHJpbmd8Y29va2llc3xpdGVtKSk/XHN7MCw0fVtcWyhdXHN7MCw0fVsiJ10oPzpwYXNzd29yZHxwYXNzd29yZHRleHR8cGFzc3dkfHB3ZHxwYXNzKVsiJ118cmVxdWVzdFwuZm9ybVwuZ2V0KD86dmFsdWVzKT9cKFxzezAsNH1bIiddcGFzc3dvcmQ='], any: ['ZmlsZS5hcHBlbmRhbGx0ZXh0KA==', 'ZmlsZS53cml0ZWFsbHRleHQo', 'ZmlsZS5hcHBlbmR0ZXh0KA==', 'ZmlsZS5hcHBlbmRhbGxsaW5lcyg=', 'ZmlsZS53cml0ZWFsbGxpbmVzKA==', 'bmV3IHN0cmVhbXdyaXRlcig=', 'bmV3IHN5c3RlbS5pby5zdHJlYW13cml0ZXIo', 'bmV3IGZpbGVzdHJlYW0o', 'bmV3IHN5c3RlbS5pby5maWxlc3RyZWFtKA==', 'ZmlsZXN5c3RlbS53cml0ZWFsbHRleHQo', 'bmV3IHdlYmNsaWVudCg=', 'bmV3IHN5c3RlbS5uZXQud2ViY2xpZW50KA==', 'd2VicmVxdWVzdC5jcmVhdGUo', 'LnVwbG9hZHN0cmluZyg='] },
    ],
  },
  {
    id: 'WS-35',
    title: "Credential stealer in an OWA sign-in script (browser side)",
    cves: [],
    severity: 'critical',
    kind: 'post-exploitation',
    references: ["Positive Technologies Expert Security Center, May 2024: keylogger code added to the sign-in handler clkLgn() of the OWA logon page","https://thenimblenerd.com/article/alert-keylogger-malware-hijacks-microsoft-exchange-servers-african-and-middle-eastern-entities-under-cyber-siege/ (summary of the PT ESC report)","MITRE ATT&CK T1056.003 (Input Capture: Web Portal Capture)"],
    description: "A page or script that reads the value of the OWA sign-in form's password field and sends it (XMLHttpRequest, fetch, a beacon or image request, a cookie): Exchange's own flogon.js only copies that field, never sends it.",
    when: [
      { max: 1048576, all: ['cGFzc3dvcmQ=', 'cmU6KD86KD86Z2JpZHxnZXRlbGVtZW50YnlpZClcKFxzezAsNH1bIiddcGFzc3dvcmQoPzp0ZXh0KT9bIiddXHN7MCw0fVwpfGxvZ29uZm9ybSg/OlwucGFzc3dvcmR8XFtbIiddcGFzc3dvcmRbIiddXF0pfFwkXChcc3swLDR9WyInXSNwYXNzd29yZFsiJ11cc3swLDR9XCkpXC52YWwoPzp1ZXxcKCk='], any: ['eG1saHR0cHJlcXVlc3Q=', 'ZmV0Y2go', 'c2VuZGJlYWNvbig=', 'JC5hamF4KA==', 'JC5wb3N0KA==', 'JC5nZXQo', 'bmV3IGltYWdlKA==', 'bWljcm9zb2Z0LnhtbGh0dHA=', 'cmU6ZG9jdW1lbnRcLmNvb2tpZVxzezAsNH09W147XG5dezAsMjAwfSg/OnBhc3N3b3JkfHBhc3N3fHB3ZCk='] },
    ],
  },
  {
    id: 'WS-36',
    title: "Captured OWA sign-in form data in a file",
    cves: [],
    severity: 'high',
    kind: 'post-exploitation',
    references: ["Positive Technologies Expert Security Center, May 2024: captured OWA credentials written to a file reachable from the internet (summary https://rewterz.com/?p=32267)","Exchange logon form fields (owa/auth/logon.aspx posts destination, flags, forcedownlevel, username, password, passwordText, isUtf8 to /owa/auth.owa)"],
    description: "A file holding the OWA sign-in form as posted (username= and password= with the form's own forcedownlevel=, passwordText= or isUtf8= field): what a credential stealer on the sign-in page writes out. destination= alone is too common in scripts and configuration to count.",
    when: [
      { max: 1048576, all: ['dXNlcm5hbWU9', 'cGFzc3dvcmQ9'], any: ['Zm9yY2Vkb3dubGV2ZWw9', 'cGFzc3dvcmR0ZXh0PQ==', 'aXN1dGY4PQ=='] },
    ],
  },
  {
    id: 'PL-29',
    title: "OAB virtual-directory web shell (CVE-2021-27065)",
    cves: ["CVE-2021-26855","CVE-2021-27065"],
    severity: 'critical',
    kind: 'webshell',
    references: ["Neo23x0/signature-base yara/apt_hafnium.yar (WEBSHELL_CVE_2021_27065_Webshells, WEBSHELL_HAFNIUM_CISA_10328929_02)","zer010bs/exchange-ioc-scan oab_webshell_http_response_body"],
    description: "A file holding an OAB virtual directory configuration dump with script in a URL: the file Set-OabVirtualDirectory + ResetOABVirtualDirectory wrote.",
    when: [
      { max: 51200, all: ['aW50ZXJuYWxhdXRoZW50aWNhdGlvbm1ldGhvZHM=', 'ZXh0ZW5kZWRwcm90ZWN0aW9udG9rZW5jaGVja2luZw==', 'cmU6ZXh0ZXJuYWx1cmx8aW50ZXJuYWx1cmw='], any: ['c2NyaXB0IGxhbmd1YWdl', 'cGFnZSBsYW5ndWFnZQ==', 'cnVuYXQ9InNlcnZlciI=', 'L3NjcmlwdA=='] },
      { max: 51200, all: ['b2ZmbGluZWFkZHJlc3Nib29rcw==', 'ZXh0ZXJuYWx1cmwgICAg', 'cmU6OiBodHRwOi8vW1xzXFNdLw=='] },
    ],
  },

];

export const SIGNATURES: ContentSignature[] = RAW.map(withNotLive);

/** cert-lv detect_webshells.ps1 keywords (WS-31): noisy on genuine Exchange pages, so only for unknown files. */
export const SHELL_KEYWORDS: string[] = ['d3NjcmlwdA==', 'dmJzY3JpcHQ=', 'dmlzdWFsYmFzaWM=', 'anNjcmlwdA==', 'cmU6ZXZhbFxzP1wo', 'cmU6cHJvY2Vzc1xzP1wo', 'ZXZhbF9y', 'ZXhlY3V0ZXN0YXRlbWVudA==', 'cHJvY2Vzc3N0YXJ0aW5mbw==', 'b3MucnVu', 'b3NjcmlwdC5ydW4=', 'b3NoZWxsLnJ1bg==', 'Y29udmVydC5mcm9tYmFzZTY0c3RyaW5n', 'cmVxdWVzdC5oZWFkZXJz', 'Y3JlYXRlb2JqZWN0', 'ZmlsZXN5c3RlbW9iamVjdA==', 'aHR0cHBvc3RlZGZpbGU=', 'c3lzdGVtLmlvLmZpbGU=', 'd3JpdGVhbGx0ZXh0', 'Y21kLmV4ZQ==', 'Y21kIC9j', 'cG93ZXJzaGVsbC5leGU=', 'bmV0IHVzZXI=', 'bmV0IGdyb3Vw', 'bHNhc3MuZXhl', 'cHJvY2R1bXA=', 'd2hvYW1p', 'cGluZy5leGU=', 'bmV3IHNvY2tldA==', 'YmluYXJ5d3JpdGU=', 'YXNzZW1ibHkubG9hZA==', 'Y29tcGlsZWFzc2VtYmx5ZnJvbXNvdXJjZQ==', 'YWVzZW5j', 'd2Vic2hlbGw='];
