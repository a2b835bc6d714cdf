// Tunnelling and remote-access tools seen after Exchange exploitation: an IIS / UM worker starting one, or its
// binary dropped in ProgramData, Users\Public or a web folder, is an attacker keeping access.
export const TUNNEL_TOOL_REFS = [
  'SigmaHQ rules/windows/process_creation proc_creation_win_pua_ngrok.yml, proc_creation_win_pua_chisel.yml, proc_creation_win_plink_port_forwarding.yml, proc_creation_win_pua_frp.yml',
  'SigmaHQ rules/windows/process_creation proc_creation_win_remote_access_tools_anydesk*.yml, proc_creation_win_remote_access_tools_screenconnect*.yml',
  'CISA AA22-320A / AA23-025A (remote monitoring and management tools used for persistence)',
];

/** Lower-case executable names of tunnelling and remote-access tools. */
export const TUNNEL_TOOLS: ReadonlySet<string> = new Set([
  'plink.exe', 'putty.exe', 'ngrok.exe', 'chisel.exe', 'frpc.exe', 'frps.exe', 'cloudflared.exe', 'gost.exe', 'iox.exe', 'revsocks.exe', 'rsocx.exe',
  'npc.exe', 'nc.exe', 'nc64.exe', 'ncat.exe', 'socat.exe', 'anydesk.exe', 'teamviewer.exe', 'teamviewer_service.exe', 'rustdesk.exe',
  'screenconnect.clientservice.exe', 'screenconnect.windowsclient.exe', 'meshagent.exe', 'ateraagent.exe', 'srservice.exe', 'splashtopstreamer.exe',
]);
