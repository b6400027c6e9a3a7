// S9 admission webhook, controller-runtime's side (bench/scenarios/s9.mjs has the harness's; the Node peer,
// bench/peers/node/s9.mjs, does the same thing step by step), and the load generator the harness drives.
//
// s9: a controller-runtime Manager whose webhook server (webhook.NewServer on 127.0.0.1:<port>, the harness's
// certificate in <certDir>) serves a validator for ConfigMaps built by ctrl.NewWebhookManagedBy(...).WithValidator.
// The validator requires data.payload and bounds its length. Its protocol differs from the other scenarios' because
// the harness, not the peer, decides when the measured phase starts and ends:
//
//	{"ready":true,"path":…}  the webhook server answers TLS handshakes; the path the validator is served at
//	← go                     the measured phase starts: the peer snapshots its CPU and its webhook latency histogram
//	{"started":true}
//	← stop                   the load is over: the peer snapshots again and prints its result, then waits for stdin to close
//
// s9load: the load generator (not a peer: the harness runs it on the control plane's CPU). A client-go clientset
// (JSON, QPS −1, one HTTP/2 connection) that reads commands as JSON lines on stdin and answers each with one line:
//
//	{"op":"probe","expect":"denied"|"allowed","timeoutMs":…}  dry-run creates of a ConfigMap without data.payload, every
//	                                                        20 ms, until the webhook denies it (or, with no webhook,
//	                                                        until it is allowed): the webhook configuration is in effect
//	{"op":"load","n":…,"concurrency":…}                    n dry-run creates of valid ConfigMaps, `concurrency` at a
//	                                                        time; per-request latency p50/p99/mean and requests/s
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

func init() {
	scenarios["s9"] = runS9
	scenarios["s9load"] = runS9Load
	scenarios["s9serve"] = runS9Serve
	scenarios["s9direct"] = runS9Direct
}

type s9Params struct {
	Kubeconfig string `json:"kubeconfig"`
	Proto      bool   `json:"proto"`
	Namespace  string `json:"namespace"`
	Port       int    `json:"port"`
	CertDir    string `json:"certDir"`
	MaxPayload int    `json:"maxPayload"`
	HTTP1      bool   `json:"http1"` // offer only http/1.1 by ALPN, as kubebuilder's scaffold does (--enable-http2=false)
}

// cmValidator is the validator both peers implement: data.payload is required and at most MaxPayload bytes long.
type cmValidator struct{ maxPayload int }

var configMapGK = schema.GroupKind{Group: "", Kind: "ConfigMap"}

func (v *cmValidator) check(cm *corev1.ConfigMap) error {
	var errs field.ErrorList
	payload, ok := cm.Data["payload"]
	path := field.NewPath("data", "payload")
	if !ok || payload == "" {
		errs = append(errs, field.Required(path, ""))
	} else if len(payload) > v.maxPayload {
		errs = append(errs, field.TooLong(path, "", v.maxPayload))
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(configMapGK, cm.Name, errs)
	}
	return nil
}

func (v *cmValidator) ValidateCreate(_ context.Context, cm *corev1.ConfigMap) (admission.Warnings, error) {
	return nil, v.check(cm)
}

func (v *cmValidator) ValidateUpdate(_ context.Context, _, cm *corev1.ConfigMap) (admission.Warnings, error) {
	return nil, v.check(cm)
}

func (v *cmValidator) ValidateDelete(context.Context, *corev1.ConfigMap) (admission.Warnings, error) {
	return nil, nil
}

// webhookLatency sums controller_runtime_webhook_latency_seconds over every webhook of the registry.
func webhookLatency() (sum float64, count uint64) {
	families, err := metrics.Registry.Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		if f.GetName() != "controller_runtime_webhook_latency_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetHistogram().GetSampleSum()
			count += m.GetHistogram().GetSampleCount()
		}
	}
	return sum, count
}

// webhookOptions are the webhook server's: controller-runtime's defaults (HTTP/2 offered by ALPN), or with HTTP/2
// off the way kubebuilder's scaffold turns it off (cmd/main.go's disableHTTP2 when --enable-http2=false).
func webhookOptions(port int, certDir string, http1 bool) webhook.Options {
	opts := webhook.Options{Host: "127.0.0.1", Port: port, CertDir: certDir}
	if http1 {
		opts.TLSOpts = []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }}
	}
	return opts
}

func readLine(want string) {
	line, err := stdin.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != want {
		fmt.Fprintf(os.Stderr, "expected %s, got %q (%v)\n", want, line, err)
		os.Exit(2)
	}
}

func runS9(raw []byte) {
	var p s9Params
	if err := json.Unmarshal(raw, &p); err != nil {
		panic(err)
	}
	log.SetLogger(zap.New(zap.WriteTo(os.Stderr))) // as in s5 and s8: info level, a few lines at start
	mgr, err := ctrl.NewManager(config(params{Kubeconfig: p.Kubeconfig, Proto: p.Proto}), ctrl.Options{
		Scheme:                 clientgoscheme.Scheme,
		Cache:                  crcache.Options{DefaultNamespaces: map[string]crcache.Config{p.Namespace: {}}},
		Metrics:                server.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		WebhookServer:          webhook.NewServer(webhookOptions(p.Port, p.CertDir, p.HTTP1)),
	})
	if err != nil {
		panic(err)
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &corev1.ConfigMap{}).WithValidator(&cmValidator{maxPayload: p.MaxPayload}).Complete(); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		if err := mgr.Start(ctx); err != nil {
			panic(err)
		}
	}()
	started := mgr.GetWebhookServer().StartedChecker()
	deadline := time.Now().Add(30 * time.Second)
	for started((*http.Request)(nil)) != nil {
		if time.Now().After(deadline) {
			panic("the webhook server did not start within 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	emit(map[string]any{"ready": true, "path": "/validate--v1-configmap"})
	readLine("go")
	sum0, count0 := webhookLatency()
	cpu0 := cpuMs()
	emit(map[string]any{"started": true})
	readLine("stop")
	cpu := cpuMs() - cpu0
	sum1, count1 := webhookLatency()
	n := count1 - count0
	r := map[string]any{"cpuMs": cpu, "handled": n, "handlerSumMs": (sum1 - sum0) * 1000, "facts": facts(params{Proto: p.Proto})}
	if n > 0 {
		r["handlerMeanUs"] = (sum1 - sum0) * 1e6 / float64(n)
		r["cpuUsPerRequest"] = cpu * 1000 / float64(n)
	}
	finish(r)
}

// ---------------------------------------------------------------------------------------------------------------
// the load generator

type s9Command struct {
	Op          string `json:"op"`
	Expect      string `json:"expect"`
	TimeoutMs   int    `json:"timeoutMs"`
	N           int    `json:"n"`
	Concurrency int    `json:"concurrency"`
}

func runS9Load(raw []byte) {
	var p s9Params
	if err := json.Unmarshal(raw, &p); err != nil {
		panic(err)
	}
	cs := kubernetes.NewForConfigOrDie(config(params{Kubeconfig: p.Kubeconfig}))
	cms := cs.CoreV1().ConfigMaps(p.Namespace)
	ctx := context.Background()
	// One request first, so the connection is open.
	if _, err := cs.CoreV1().Namespaces().Get(ctx, p.Namespace, metav1.GetOptions{}); err != nil {
		panic(err)
	}
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	payload := strings.Repeat("x", 1000)
	valid := func(i int) *corev1.ConfigMap {
		return &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "s9-" + strconv.Itoa(i), Labels: map[string]string{"app": "bench", "shard": strconv.Itoa(i % 10)}},
			Data:       map[string]string{"payload": payload},
		}
	}
	emit(map[string]any{"ready": true})
	for {
		line, err := stdin.ReadString('\n')
		if err != nil {
			return
		}
		var c s9Command
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			panic(err)
		}
		switch c.Op {
		case "probe":
			// Denied by the webhook (422 with its message) or, with no webhook, allowed. A webhook configuration that
			// still points at a previous peer's port fails with 500 "failed calling webhook": try again.
			t0 := time.Now()
			tries := 0
			last := ""
			ok := false
			for time.Since(t0) < time.Duration(c.TimeoutMs)*time.Millisecond {
				tries++
				_, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "s9-probe"}}, dryRun)
				if c.Expect == "allowed" && err == nil {
					ok = true
					break
				}
				if c.Expect == "denied" && err != nil && apierrors.IsInvalid(err) && strings.Contains(err.Error(), "denied the request") {
					ok = true
					break
				}
				if err != nil {
					last = err.Error()
				} else {
					last = "allowed"
				}
				time.Sleep(20 * time.Millisecond)
			}
			emit(map[string]any{"ok": ok, "tries": tries, "ms": float64(time.Since(t0).Microseconds()) / 1e3, "last": last})
		case "load":
			lat := make([]float64, c.N)
			var next atomic.Int64
			var errs atomic.Int64
			var firstErr atomic.Value
			t0 := time.Now()
			var wg sync.WaitGroup
			for w := 0; w < c.Concurrency; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1) - 1)
						if i >= c.N {
							return
						}
						cm := valid(i)
						s := time.Now()
						_, err := cms.Create(ctx, cm, dryRun)
						lat[i] = float64(time.Since(s).Nanoseconds()) / 1e6
						if err != nil {
							errs.Add(1)
							firstErr.CompareAndSwap(nil, err.Error())
						}
					}
				}()
			}
			wg.Wait()
			wall := time.Since(t0).Seconds()
			sum := 0.0
			for _, x := range lat {
				sum += x
			}
			sort.Float64s(lat)
			r := map[string]any{
				"n": c.N, "concurrency": c.Concurrency, "wallMs": wall * 1000, "reqPerSec": float64(c.N) / wall,
				"p50Ms": percentile(lat, 0.5), "p90Ms": percentile(lat, 0.9), "p99Ms": percentile(lat, 0.99),
				"meanMs": sum / float64(c.N), "maxMs": lat[len(lat)-1], "errors": errs.Load(),
			}
			if e := firstErr.Load(); e != nil {
				r["firstError"] = e
			}
			emit(r)
		default:
			panic("unknown op " + c.Op)
		}
	}
}

// ---------------------------------------------------------------------------------------------------------------
// bench/webhook/server-bench.mjs: the webhook servers alone, without the API server

// runS9Serve is controller-runtime's webhook server alone (webhook.NewServer + admission.WithValidator, what the
// manager's builder registers): it prints {"ready":true,"path":…} once it answers TLS handshakes and serves until
// stdin closes.
func runS9Serve(raw []byte) {
	var p s9Params
	if err := json.Unmarshal(raw, &p); err != nil {
		panic(err)
	}
	srv := webhook.NewServer(webhookOptions(p.Port, p.CertDir, p.HTTP1))
	path := "/validate--v1-configmap"
	srv.Register(path, admission.WithValidator[*corev1.ConfigMap](clientgoscheme.Scheme, &cmValidator{maxPayload: p.MaxPayload}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		if err := srv.Start(ctx); err != nil {
			panic(err)
		}
	}()
	for srv.StartedChecker()((*http.Request)(nil)) != nil {
		time.Sleep(5 * time.Millisecond)
	}
	emit(map[string]any{"ready": true, "path": path})
	finish(map[string]any{})
}

type s9DirectCommand struct {
	URL         string `json:"url"`
	Body        string `json:"body"` // a file
	CA          string `json:"ca"`   // a file
	N           int    `json:"n"`
	Concurrency int    `json:"concurrency"`
	HTTP1       bool   `json:"http1"`
	GapUs       int    `json:"gapUs"` // each worker's pause between requests (the API server's own time per request)
}

// runS9Direct is the client of bench/webhook/server-bench.mjs: for each command line (JSON), n POSTs of the same
// AdmissionReview, `concurrency` at a time, over Go's HTTP transport as the API server's webhook client uses it
// (HTTP/2 when the server offers it, else HTTP/1.1 keep-alive connections, one per request in flight).
func runS9Direct([]byte) {
	emit(map[string]any{"ready": true})
	for {
		line, err := stdin.ReadString('\n')
		if err != nil {
			return
		}
		var c s9DirectCommand
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			panic(err)
		}
		body, err := os.ReadFile(c.Body)
		if err != nil {
			panic(err)
		}
		caPEM, err := os.ReadFile(c.CA)
		if err != nil {
			panic(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		tr := &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool},
			ForceAttemptHTTP2:   !c.HTTP1,
			MaxIdleConnsPerHost: c.Concurrency + 1,
		}
		if c.HTTP1 {
			tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		client := &http.Client{Transport: tr}
		lat := make([]float64, c.N)
		var next atomic.Int64
		var errs atomic.Int64
		var firstErr atomic.Value
		var proto atomic.Value
		t0 := time.Now()
		var wg sync.WaitGroup
		for w := 0; w < c.Concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= c.N {
						return
					}
					if c.GapUs > 0 {
						time.Sleep(time.Duration(c.GapUs) * time.Microsecond)
					}
					s := time.Now()
					res, err := client.Post(c.URL, "application/json", bytes.NewReader(body))
					if err == nil {
						var review struct {
							Response struct {
								Allowed bool `json:"allowed"`
							} `json:"response"`
						}
						err = json.NewDecoder(res.Body).Decode(&review)
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
						proto.Store(res.Proto)
						if err == nil && (res.StatusCode != 200 || !review.Response.Allowed) {
							err = fmt.Errorf("status %d, allowed %v", res.StatusCode, review.Response.Allowed)
						}
					}
					lat[i] = float64(time.Since(s).Nanoseconds()) / 1e6
					if err != nil {
						errs.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
				}
			}()
		}
		wg.Wait()
		wall := time.Since(t0).Seconds()
		tr.CloseIdleConnections()
		sort.Float64s(lat)
		r := map[string]any{
			"n": c.N, "concurrency": c.Concurrency, "wallMs": wall * 1000, "reqPerSec": float64(c.N) / wall,
			"p50Ms": percentile(lat, 0.5), "p99Ms": percentile(lat, 0.99), "errors": errs.Load(), "proto": proto.Load(),
		}
		if e := firstErr.Load(); e != nil {
			r["firstError"] = e
		}
		emit(r)
	}
}
