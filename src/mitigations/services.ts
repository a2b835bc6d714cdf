// The other March 2021 interim mitigations (ExchangeMitigations.ps1): stop Unified Messaging, and keep the
// ECP / OAB application pools from starting. Each has a real cost; the text says which.

export type ServiceMitigationId = 'um' | 'ecp-apppool' | 'oab-apppool';

export interface ServiceMitigation {
  id: ServiceMitigationId;
  title: string;
  cves: string[];
  tradeOff: string;
  /** Windows services stopped and disabled. */
  services: string[];
  /** IIS application pools set to autoStart=false, startMode=OnDemand and stopped. */
  appPools: string[];
}

export const SERVICE_MITIGATIONS: readonly ServiceMitigation[] = [
  {
    id: 'um',
    title: 'Unified Messaging services stopped and disabled',
    cves: ['CVE-2021-26857'],
    tradeOff: 'Voicemail and other UM features stop working. Not applicable to Exchange 2019 (no UM).',
    services: ['MSExchangeUM', 'MSExchangeUMCR'],
    appPools: [],
  },
  {
    id: 'ecp-apppool',
    title: 'ECP application pool kept stopped',
    cves: ['CVE-2021-27065'],
    tradeOff: 'The Exchange Control Panel returns HTTP 503 by design: administer with the Exchange Management Shell.',
    services: [],
    appPools: ['MSExchangeECPAppPool'],
  },
  {
    id: 'oab-apppool',
    title: 'OAB application pool kept stopped',
    cves: ['CVE-2021-26858'],
    tradeOff: 'Outlook clients cannot download the Offline Address Book.',
    services: [],
    appPools: ['MSExchangeOABAppPool'],
  },
];

/** Managed Availability restarts stopped services and pools unless Health Manager is stopped first. */
export const HEALTH_SERVICES = ['MSExchangeHM', 'MSExchangeHMRecovery'];
export const HEALTH_NOTE =
  'Prerequisite: Managed Availability (MSExchangeHM, and MSExchangeHMRecovery on 2016/2019) restarts what these ' +
  'mitigations stop, so it is stopped and disabled first. Re-enable it only when no other service mitigation remains.';

export function serviceMitigation(id: ServiceMitigationId): ServiceMitigation {
  const m = SERVICE_MITIGATIONS.find((s) => s.id === id);
  if (!m) throw new Error(`unknown mitigation ${id}`);
  return m;
}
