/* svc-registry.c: the built-in services by name and by usual port. */
#include "svc-util.h"

#include <string.h>

const struct svc_def *const svc_all[] = {
	&svc_ftp, &svc_ssh, &svc_telnet, &svc_smtp, &svc_http_iis, &svc_http_apache,
	&svc_pop3, &svc_imap, &svc_mssql, &svc_mssql_resolver, &svc_smb,
	&svc_netbios_ns, &svc_proxy, &svc_accept, NULL,
};

const struct svc_def *svc_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; svc_all[i]; i++)
		if (!strcmp(svc_all[i]->name, name))
			return svc_all[i];
	return NULL;
}

const struct svc_def *svc_for_port(uint8_t proto, uint16_t port)
{
	if (proto == 17) {
		switch (port) {
		case 137: return &svc_netbios_ns;
		case 1434: return &svc_mssql_resolver;
		default: return NULL;
		}
	}
	if (proto != 6)
		return NULL;
	switch (port) {
	case 21: return &svc_ftp;
	case 22: return &svc_ssh;
	case 23:
	case 2323: return &svc_telnet;
	case 25: return &svc_smtp;
	case 80: return &svc_http_iis;
	case 110: return &svc_pop3;
	case 143: return &svc_imap;
	case 139:
	case 445: return &svc_smb;
	case 1433: return &svc_mssql;
	case 1080:
	case 3128:
	case 8080: return &svc_proxy;
	default: return NULL;
	}
}
