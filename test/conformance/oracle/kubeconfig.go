package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// kubeconfigCase: the loading rules (an explicit file, or a KUBECONFIG list) and kubectl's flags, by flag name
// ("server", "as-group", …), each with its values in order (repeatable flags have several).
type kubeconfigCase struct {
	ID         string              `json:"id"`
	Dir        string              `json:"dir"`
	Explicit   string              `json:"explicitPath,omitempty"`
	Kubeconfig string              `json:"kubeconfigEnv,omitempty"`
	Flags      map[string][]string `json:"flags,omitempty"`
}

// kubeconfigResult is what a client built from the configuration would really do. Error names the stage that
// refused the configuration: "flags" (kubectl's flag parsing), "load" (ClientConfig), "namespace", "host" (the
// server URL) or "transport" (rest.HTTPClientFor: TLS material, authentication methods).
type kubeconfigResult struct {
	Error       string       `json:"error,omitempty"`
	Host        string       `json:"host,omitempty"`
	Namespace   string       `json:"namespace,omitempty"`
	TLS         tlsResult    `json:"tls"`
	Auth        authResult   `json:"auth"`
	Impersonate *impersonate `json:"impersonate,omitempty"`
	Proxy       string       `json:"proxy,omitempty"`
	TimeoutMs   int64        `json:"timeoutMs,omitempty"`
	Compression bool         `json:"disableCompression,omitempty"`
}

type tlsResult struct {
	CA         string `json:"ca,omitempty"`
	Cert       string `json:"cert,omitempty"`
	Key        string `json:"key,omitempty"`
	ServerName string `json:"serverName,omitempty"`
	Insecure   bool   `json:"insecure,omitempty"`
}

type authResult struct {
	Token        string      `json:"token,omitempty"`
	TokenFile    string      `json:"tokenFile,omitempty"`
	Username     string      `json:"username,omitempty"`
	Password     string      `json:"password,omitempty"`
	Exec         *execResult `json:"exec,omitempty"`
	AuthProvider string      `json:"authProvider,omitempty"`
}

type execResult struct {
	Command         string            `json:"command"`
	Args            []string          `json:"args,omitempty"`
	Env             map[string]string `json:"env,omitempty"`
	APIVersion      string            `json:"apiVersion"`
	InstallHint     string            `json:"installHint,omitempty"`
	InteractiveMode string            `json:"interactiveMode,omitempty"`
	ClusterInfo     bool              `json:"provideClusterInfo,omitempty"`
}

type impersonate struct {
	User   string              `json:"user,omitempty"`
	UID    string              `json:"uid,omitempty"`
	Groups []string            `json:"groups,omitempty"`
	Extra  map[string][]string `json:"extra,omitempty"`
}

func runKubeconfig(c kubeconfigCase) *kubeconfigResult {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: c.Explicit}
	if c.Explicit == "" {
		rules.Precedence = filepath.SplitList(c.Kubeconfig)
	}
	overrides, ok := overridesFromFlags(c.Flags)
	if !ok {
		return &kubeconfigResult{Error: "flags"}
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	config, err := cc.ClientConfig()
	if err != nil {
		return &kubeconfigResult{Error: "load"}
	}
	namespace, _, err := cc.Namespace()
	if err != nil {
		return &kubeconfigResult{Error: "namespace"}
	}
	base, _, err := rest.DefaultServerUrlFor(config)
	if err != nil {
		return &kubeconfigResult{Error: "host"}
	}
	if _, err := rest.HTTPClientFor(config); err != nil {
		return &kubeconfigResult{Error: "transport"}
	}
	res := &kubeconfigResult{Host: base.String(), Namespace: namespace, TimeoutMs: config.Timeout.Milliseconds()}
	res.Compression = config.DisableCompression
	res.TLS = tlsOf(config)
	res.Auth = authOf(config, c.Dir)
	if config.Impersonate.UserName != "" || config.Impersonate.UID != "" || len(config.Impersonate.Groups) > 0 ||
		len(config.Impersonate.Extra) > 0 {
		i := config.Impersonate
		res.Impersonate = &impersonate{User: i.UserName, UID: i.UID, Groups: i.Groups, Extra: i.Extra}
	}
	if config.Proxy != nil {
		req, _ := http.NewRequest(http.MethodGet, base.String(), nil)
		if u, err := config.Proxy(req); err == nil && u != nil {
			res.Proxy = u.String()
		}
	}
	return res
}

// tlsOf: the CA and client pair as digests of their PEM text (file or data), the pair only when both halves are set
// (client-go ignores a lone key).
func tlsOf(config *rest.Config) tlsResult {
	t := tlsResult{ServerName: config.ServerName, Insecure: config.Insecure}
	t.CA = digestOf(config.CAData, config.CAFile)
	if hasCertAuth(config) {
		t.Cert = digestOf(config.CertData, config.CertFile)
		t.Key = digestOf(config.KeyData, config.KeyFile)
	}
	return t
}

// authOf: the credentials a request would carry. A token file wins over a token; basic authentication needs a
// user name; an exec plugin runs only when no token, basic authentication or client certificate is set.
func authOf(config *rest.Config, dir string) authResult {
	a := authResult{}
	if config.BearerTokenFile != "" {
		a.TokenFile = relative(config.BearerTokenFile, dir)
	} else if config.BearerToken != "" {
		a.Token = digest([]byte(config.BearerToken))
	}
	if hasBasicAuth(config) {
		a.Username = config.Username
		if config.Password != "" {
			a.Password = digest([]byte(config.Password))
		}
	}
	if e := config.ExecProvider; e != nil && !hasTokenAuth(config) && !hasBasicAuth(config) && !hasCertAuth(config) {
		x := &execResult{
			Command:         relative(e.Command, dir),
			Args:            e.Args,
			APIVersion:      e.APIVersion,
			InstallHint:     e.InstallHint,
			InteractiveMode: string(e.InteractiveMode),
			ClusterInfo:     e.ProvideClusterInfo,
		}
		if len(e.Env) > 0 {
			x.Env = map[string]string{}
			for _, v := range e.Env {
				x.Env[v.Name] = v.Value
			}
		}
		a.Exec = x
	}
	if config.AuthProvider != nil {
		a.AuthProvider = config.AuthProvider.Name
	}
	return a
}

// The transport's rules (k8s.io/client-go/transport.Config), on a rest.Config.
func hasCertAuth(c *rest.Config) bool {
	return (len(c.CertData) != 0 || c.CertFile != "") && (len(c.KeyData) != 0 || c.KeyFile != "")
}
func hasTokenAuth(c *rest.Config) bool { return c.BearerToken != "" || c.BearerTokenFile != "" }
func hasBasicAuth(c *rest.Config) bool { return c.Username != "" }

func digestOf(data []byte, file string) string {
	if len(data) == 0 && file != "" {
		read, err := os.ReadFile(file)
		if err != nil {
			return "unreadable"
		}
		data = read
	}
	if len(data) == 0 {
		return ""
	}
	return digest(data)
}

// digest: the first 16 hex digits of the SHA-256 of the text without surrounding white space.
func digest(data []byte) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(string(data))))
	return hex.EncodeToString(sum[:])[:16]
}

// relative: a path inside the case's folder as $DIR/…, so that both sides print the same text.
func relative(path, dir string) string {
	if dir != "" && strings.HasPrefix(path, dir+string(filepath.Separator)) {
		return "$DIR" + path[len(dir):]
	}
	return path
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
