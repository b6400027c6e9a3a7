package main

import (
	"strings"

	"k8s.io/client-go/tools/clientcmd"
)

// overridesFromFlags builds clientcmd.ConfigOverrides from kubectl's flag names, as clientcmd.BindOverrideFlags
// would from a command line. False when a flag value is one kubectl would refuse.
func overridesFromFlags(flags map[string][]string) (*clientcmd.ConfigOverrides, bool) {
	o := &clientcmd.ConfigOverrides{}
	last := func(name string) string {
		v := flags[name]
		if len(v) == 0 {
			return ""
		}
		return v[len(v)-1]
	}
	for name, values := range flags {
		v := last(name)
		switch name {
		case "server":
			o.ClusterInfo.Server = v
		case "certificate-authority":
			o.ClusterInfo.CertificateAuthority = v
		case "insecure-skip-tls-verify":
			switch v {
			case "true", "":
				o.ClusterInfo.InsecureSkipTLSVerify = true
			case "false":
			default:
				return nil, false
			}
		case "tls-server-name":
			o.ClusterInfo.TLSServerName = v
		case "proxy-url":
			o.ClusterInfo.ProxyURL = v
		case "disable-compression":
			o.ClusterInfo.DisableCompression = v == "true" || v == ""
		case "token":
			o.AuthInfo.Token = v
		case "username":
			o.AuthInfo.Username = v
		case "password":
			o.AuthInfo.Password = v
		case "client-certificate":
			o.AuthInfo.ClientCertificate = v
		case "client-key":
			o.AuthInfo.ClientKey = v
		case "as":
			o.AuthInfo.Impersonate = v
		case "as-uid":
			o.AuthInfo.ImpersonateUID = v
		case "as-group":
			o.AuthInfo.ImpersonateGroups = append([]string(nil), values...)
		case "as-user-extra":
			o.AuthInfo.ImpersonateUserExtra = map[string][]string{}
			for _, kv := range values {
				k, val, ok := strings.Cut(kv, "=")
				if !ok {
					return nil, false
				}
				o.AuthInfo.ImpersonateUserExtra[k] = append(o.AuthInfo.ImpersonateUserExtra[k], val)
			}
		case "context":
			o.CurrentContext = v
		case "cluster":
			o.Context.Cluster = v
		case "user":
			o.Context.AuthInfo = v
		case "namespace":
			o.Context.Namespace = v
		case "request-timeout":
			o.Timeout = v
		default:
			return nil, false
		}
	}
	return o, true
}
