// Command kubelet is sdk/envtest's test kubelet: a stand-in for a real kubelet that registers one Node, runs the
// containers of the pods bound to it as local processes (the image is ignored), and serves the kubelet API that
// kube-apiserver proxies exec, attach, port-forward and logs to, with the kubelet's own streaming library
// (k8s.io/cri-streaming), so SPDY and the WebSocket protocols are served by the same code as on a real node.
//
// It is started by startControlPlane({ kubelet: true }); see the flags below for running it by hand.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// defaultKubeletVersion is set by build-kubelet.sh to the control plane's version.
var defaultKubeletVersion = "v0.0.0-kubeloop"

type options struct {
	kubeconfig       string
	nodeName         string
	address          string
	port             int
	certFile         string
	keyFile          string
	clientCAFile     string
	allowedClients   string
	rootDir          string
	bindUnscheduled  bool
	kubeletVersion   string
	heartbeatSeconds int
}

func main() {
	var o options
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of an identity that may manage nodes, leases, pods and pods/status (required)")
	flag.StringVar(&o.nodeName, "node-name", "kubeloop-node", "the name of the Node to register")
	flag.StringVar(&o.address, "address", "127.0.0.1", "the address the kubelet API listens on, and the Node's InternalIP")
	flag.IntVar(&o.port, "port", 10250, "the port of the kubelet API (status.daemonEndpoints.kubeletEndpoint.Port)")
	flag.StringVar(&o.certFile, "tls-cert-file", "", "serving certificate (PEM), valid for --address (required)")
	flag.StringVar(&o.keyFile, "tls-private-key-file", "", "its private key (PEM) (required)")
	flag.StringVar(&o.clientCAFile, "client-ca-file", "", "CA (PEM) that must have signed every client's certificate: the API server's kubelet client certificate (required)")
	flag.StringVar(&o.allowedClients, "allowed-clients", "", "comma-separated common names of the client certificates allowed to call the kubelet API (as a real kubelet's authorization would); empty: any certificate the CA signed")
	flag.StringVar(&o.rootDir, "root-dir", "", "folder for the pods' working folders and container logs (required)")
	flag.BoolVar(&o.bindUnscheduled, "bind-unscheduled-pods", true, "bind pods without spec.nodeName to this node through pods/binding (envtest has no scheduler)")
	flag.StringVar(&o.kubeletVersion, "kubelet-version", defaultKubeletVersion, "status.nodeInfo.kubeletVersion")
	flag.IntVar(&o.heartbeatSeconds, "heartbeat-seconds", 10, "how often the node Lease is renewed")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "kubelet: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	for name, v := range map[string]string{"kubeconfig": o.kubeconfig, "tls-cert-file": o.certFile, "tls-private-key-file": o.keyFile, "client-ca-file": o.clientCAFile, "root-dir": o.rootDir} {
		if v == "" {
			return fmt.Errorf("--%s is required", name)
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return fmt.Errorf("reading --kubeconfig: %w", err)
	}
	cfg.UserAgent = "kubeloop-test-kubelet"
	// A test machine's API server, not a shared cluster: client-go's default 5 requests/s would delay bindings and
	// status updates by seconds.
	cfg.QPS, cfg.Burst = 500, 1000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.rootDir, 0o755); err != nil {
		return err
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()

	k := newKubelet(cs, o)
	tlsConfig, err := servingTLS(o)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(o.address, strconv.Itoa(o.port))
	ln, err := tls.Listen("tcp", addr, tlsConfig)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: allowClients(o.allowedClients, k.routes()), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logf("serving the kubelet API on https://%s", addr)

	if err := k.registerNode(ctx); err != nil {
		k.shutdown()
		return err
	}
	logf("node %s registered and Ready", o.nodeName)
	go k.heartbeat(ctx)
	if err := k.watchPods(ctx); err != nil {
		k.shutdown()
		return err
	}

	select {
	case <-ctx.Done():
		logf("stopping: killing the containers' processes")
	case err := <-serveErr:
		k.shutdown()
		return fmt.Errorf("the kubelet API server stopped: %w", err)
	}
	k.shutdown()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 2*time.Second)
	defer stop()
	_ = srv.Shutdown(shutdownCtx)
	return nil
}

// servingTLS serves --tls-cert-file and requires a client certificate signed by --client-ca-file.
func servingTLS(o options) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading the serving certificate: %w", err)
	}
	caPEM, err := os.ReadFile(o.clientCAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("--client-ca-file holds no PEM certificate")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
		// The SPDY upgrade needs HTTP/1.1.
		NextProtos: []string{"http/1.1"},
	}, nil
}

// allowClients answers 403 to a client whose certificate's common name is not in the list (when there is one).
func allowClients(list string, next http.Handler) http.Handler {
	if list == "" {
		return next
	}
	allowed := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		allowed[strings.TrimSpace(name)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || !allowed[r.TLS.PeerCertificates[0].Subject.CommonName] {
			http.Error(w, "Forbidden: this client may not call the kubelet API", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s kubelet: %s\n", time.Now().UTC().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
}
