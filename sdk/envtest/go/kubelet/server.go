package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// The kubelet API paths kube-apiserver proxies to (pkg/kubelet/server in Kubernetes), on the streaming library.
const (
	idleTimeout = 4 * time.Hour
)

func (k *kubelet) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	for _, method := range []string{"GET", "POST"} {
		mux.HandleFunc(method+" /exec/{ns}/{pod}/{container}", k.serveExec)
		mux.HandleFunc(method+" /exec/{ns}/{pod}/{uid}/{container}", k.serveExec)
		mux.HandleFunc(method+" /attach/{ns}/{pod}/{container}", k.serveAttach)
		mux.HandleFunc(method+" /attach/{ns}/{pod}/{uid}/{container}", k.serveAttach)
		mux.HandleFunc(method+" /portForward/{ns}/{pod}", k.servePortForward)
		mux.HandleFunc(method+" /portForward/{ns}/{pod}/{uid}", k.servePortForward)
	}
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", k.serveLogs)
	return mux
}

// lookup finds the pod of a request (and, when the path names one, checks its uid).
func (k *kubelet) lookup(w http.ResponseWriter, r *http.Request) *podState {
	p := k.podByName(r.PathValue("ns"), r.PathValue("pod"))
	if p == nil || (r.PathValue("uid") != "" && string(p.uid) != r.PathValue("uid")) {
		http.Error(w, fmt.Sprintf("pod %s/%s not found on this node", r.PathValue("ns"), r.PathValue("pod")), http.StatusNotFound)
		return nil
	}
	return p
}

func podKey(p *podState) string { return p.namespace + "/" + p.name }

func (k *kubelet) serveExec(w http.ResponseWriter, r *http.Request) {
	p := k.lookup(w, r)
	if p == nil {
		return
	}
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cmd := r.URL.Query()["command"]
	remotecommand.ServeExec(w, r, &processRuntime{k}, podKey(p), string(p.uid), r.PathValue("container"), cmd, opts,
		idleTimeout, remotecommand.DefaultStreamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

func (k *kubelet) serveAttach(w http.ResponseWriter, r *http.Request) {
	p := k.lookup(w, r)
	if p == nil {
		return
	}
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	remotecommand.ServeAttach(w, r, &processRuntime{k}, podKey(p), string(p.uid), r.PathValue("container"), opts,
		idleTimeout, remotecommand.DefaultStreamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

func (k *kubelet) servePortForward(w http.ResponseWriter, r *http.Request) {
	p := k.lookup(w, r)
	if p == nil {
		return
	}
	opts, err := portforward.NewV4Options(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	portforward.ServePortForward(w, r, &processRuntime{k}, podKey(p), string(p.uid), opts,
		idleTimeout, remotecommand.DefaultStreamCreationTimeout, portforward.SupportedProtocols)
}

func (k *kubelet) serveLogs(w http.ResponseWriter, r *http.Request) {
	p := k.lookup(w, r)
	if p == nil {
		return
	}
	name := r.PathValue("container")
	c := p.container(name)
	if c == nil {
		http.Error(w, fmt.Sprintf("container %q in pod %q is not valid", name, p.name), http.StatusBadRequest)
		return
	}
	o, bad := parseLogOptions(r)
	if bad != "" {
		http.Error(w, bad, http.StatusBadRequest)
		return
	}
	// Which run's log, as a kubelet picks it from the container's status: running, the current run; waiting to
	// restart or terminated, the run that ended last; previous, the run of lastState.terminated.
	c.mu.Lock()
	inst := c.current
	last, before := c.lastExitN, c.previousExitN
	final := inst == nil && c.waitingReason == ""
	waiting := c.waitingReason
	c.mu.Unlock()
	if o.previous {
		n := last
		if final {
			n = before
		}
		if n < 0 {
			http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", name, p.name), http.StatusBadRequest)
			return
		}
		o.follow = false
		serveLog(r.Context(), w, c.logPath(n), o, nil)
		return
	}
	done := make(chan struct{})
	n := last
	if inst != nil {
		n, done = inst.number, inst.done
	} else {
		close(done)
	}
	if n < 0 {
		if waiting == "" || waiting == "CrashLoopBackOff" {
			waiting = "ContainerCreating"
		}
		http.Error(w, fmt.Sprintf("container %q in pod %q is waiting to start: %s", name, p.name, waiting), http.StatusBadRequest)
		return
	}
	serveLog(r.Context(), w, c.logPath(n), o, done)
}

// processRuntime is the container runtime the streaming library calls: processes on this machine.
type processRuntime struct{ k *kubelet }

func (rt *processRuntime) find(key, uid, name string) (*podState, *container, *instance, error) {
	ns, podName, _ := strings.Cut(key, "/")
	p := rt.k.podByName(ns, podName)
	if p == nil || string(p.uid) != uid {
		return nil, nil, nil, fmt.Errorf("pod %s not found", key)
	}
	c := p.container(name)
	if c == nil {
		return nil, nil, nil, fmt.Errorf("container %q not found in pod %s", name, key)
	}
	inst := c.running()
	if inst == nil {
		return nil, nil, nil, fmt.Errorf("container %q in pod %s is not running", name, key)
	}
	return p, c, inst, nil
}

// ExecInContainer runs cmd in the container's working folder and environment, in its own process group.
func (rt *processRuntime) ExecInContainer(ctx context.Context, key, uid, name string, argv []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, timeout time.Duration) error {
	_, c, _, err := rt.find(key, uid, name)
	if err != nil {
		return err
	}
	if len(argv) == 0 {
		return errors.New("no command to execute")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = c.environ()
	cmd.Dir = c.workDir()
	var copies sync.WaitGroup
	var ptmx io.ReadWriteCloser
	if tty {
		// The client sends its terminal's size first thing: start the process with it when it comes soon enough.
		size := &pty.Winsize{Rows: 24, Cols: 80}
		select {
		case first, ok := <-resize:
			if ok {
				size = &pty.Winsize{Rows: first.Height, Cols: first.Width}
			}
		case <-time.After(time.Second):
		}
		f, err := pty.StartWithAttrs(cmd, size, processAttrs(true))
		if err != nil {
			return err
		}
		ptmx = f
		go func() {
			for size := range resize {
				_ = pty.Setsize(f, &pty.Winsize{Rows: size.Height, Cols: size.Width})
			}
		}()
		if out != nil {
			copies.Add(1)
			go func() { defer copies.Done(); _, _ = io.Copy(out, f) }()
		}
		if in != nil {
			go func() { _, _ = io.Copy(f, in) }()
		}
	} else {
		cmd.SysProcAttr = processAttrs(false)
		if out != nil {
			cmd.Stdout = out
		}
		if errOut != nil {
			cmd.Stderr = errOut
		}
		var stdin io.WriteCloser
		if in != nil {
			if stdin, err = cmd.StdinPipe(); err != nil {
				return err
			}
		}
		// Output held open by a process left behind is cut off a second after the command exits.
		cmd.WaitDelay = time.Second
		if err := cmd.Start(); err != nil {
			return err
		}
		if stdin != nil {
			go func() { _, _ = io.Copy(stdin, in); _ = stdin.Close() }()
		}
	}
	c.mu.Lock()
	c.execs[cmd] = struct{}{}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.execs, cmd)
		c.mu.Unlock()
	}()
	stop := context.AfterFunc(ctx, func() { killGroup(cmd, syscall.SIGKILL) })
	defer stop()
	err = cmd.Wait()
	if ptmx != nil {
		waited := make(chan struct{})
		go func() { copies.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(time.Second):
		}
		_ = ptmx.Close()
	}
	if cmd.ProcessState != nil && !cmd.ProcessState.Success() {
		code := cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		return utilexec.CodeExitError{Err: fmt.Errorf("command terminated with exit code %d", code), Code: code}
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) && !errors.Is(err, exec.ErrWaitDelay) {
		return err
	}
	return nil
}

// AttachContainer joins the main process's stdin, stdout and stderr (its pty for a TTY container), until the
// process exits or the client leaves.
func (rt *processRuntime) AttachContainer(ctx context.Context, key, uid, name string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	_, c, inst, err := rt.find(key, uid, name)
	if err != nil {
		return err
	}
	left := make(chan struct{})
	var once sync.Once
	leave := func() { once.Do(func() { close(left) }) }
	if inst.pty != nil && resize != nil {
		go func() {
			for size := range resize {
				_ = pty.Setsize(inst.pty, &pty.Winsize{Rows: size.Height, Cols: size.Width})
			}
		}()
	}
	follow := func(f *fanout, w io.Writer) {
		ch := f.subscribe()
		go func() {
			defer f.unsubscribe(ch)
			for {
				select {
				case b, ok := <-ch:
					if !ok {
						return
					}
					if _, err := w.Write(b); err != nil {
						leave()
						return
					}
				case <-left:
					return
				}
			}
		}()
	}
	if out != nil {
		follow(inst.out, out)
	}
	if errOut != nil && inst.pty == nil {
		follow(inst.errOut, errOut)
	}
	if in != nil && inst.stdin != nil {
		c.mu.Lock()
		once := c.spec.StdinOnce && !c.attachedOnce
		c.attachedOnce = true
		c.mu.Unlock()
		go func() {
			_, err := io.Copy(inst.stdin, in)
			if once && inst.pty == nil {
				_ = inst.stdin.Close()
			}
			if err != nil {
				leave()
			}
		}()
	}
	select {
	case <-inst.done:
	case <-left:
	case <-ctx.Done():
	}
	leave()
	return nil
}

// PortForward connects the stream to 127.0.0.1:port, where the pod's processes listen (they share the machine's
// network).
func (rt *processRuntime) PortForward(ctx context.Context, key, uid string, port int32, stream io.ReadWriteCloser) error {
	ns, podName, _ := strings.Cut(key, "/")
	p := rt.k.podByName(ns, podName)
	if p == nil || string(p.uid) != uid {
		return fmt.Errorf("pod %s not found", key)
	}
	conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		return fmt.Errorf("nothing listens on port %d: %v", port, err)
	}
	defer conn.Close()
	// The client's end of input goes on as a half-close; the forward ends when the pod's side has said all.
	go func() {
		_, _ = io.Copy(conn, stream)
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.CloseWrite()
		}
	}()
	answered := make(chan struct{})
	go func() {
		_, _ = io.Copy(stream, conn)
		close(answered)
	}()
	select {
	case <-answered:
	case <-ctx.Done():
	}
	return nil
}
