package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/reconcile/institutions"
	"github.com/feebridge/feebridge/reconcile/metrics"
)

// checkConfigDirFlags checks serve's -config-dir and -listen: together,
// and without -config.
func (m *Main) checkConfigDirFlags(name string) error {
	switch {
	case m.configDir == "" && m.listenAddr != "":
		return usagef("%s: -listen goes with -config-dir (a single config sets webhook.listen)", name)
	case m.configDir == "":
		return nil
	case m.configPath != "":
		return usagef("%s: -config and -config-dir: give one", name)
	case m.listenAddr == "":
		return usagef("%s: -config-dir needs -listen ADDR, the deployment's one listener", name)
	}
	return nil
}

// serveConfigDir is `feesync serve -config-dir DIR -listen ADDR`: every
// institution of DIR (package reconcile/institutions) runs its own jobs
// on its own schedules, as serve runs one config's, and one listener
// serves them all. SIGHUP (or m.Reloads) reads DIR again. It returns when
// ctx ends, once every institution's running jobs have seen it.
func (m *Main) serveConfigDir(ctx context.Context) error {
	dir, err := institutions.ReadDir(m.configDir)
	if err != nil {
		return err
	}
	dep := institutions.New(m.openInstitution, &institutions.Options{Logger: m.logger, Check: m.checkInstitution})
	if err := dep.Start(ctx, dir); err != nil {
		return err
	}
	defer dep.Stop()
	// SIGHUP is taken before the listener says it listens: a reload sent
	// from then on is never the signal's default (ending the process).
	reloads, stopHUP := m.reloads(ctx)
	defer stopHUP()
	srv, err := m.listenDeployment(dep)
	if err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			m.logger.Info("stopping")
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				m.logger.Warn("http shutdown", "err", err.Error())
			}
			return nil
		case <-reloads:
			m.reload(ctx, dep)
		}
	}
}

// reloads is m.Reloads, or, when nil, a channel that SIGHUP sends on
// until ctx ends; stop stops taking the signal.
func (m *Main) reloads(ctx context.Context) (reloads <-chan struct{}, stop func()) {
	if m.Reloads != nil {
		return m.Reloads, func() {}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	c := make(chan struct{})
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case c <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return c, func() { signal.Stop(hup) }
}

// reload reads the folder again and applies it, logging what changed
// and every file refused, by name.
func (m *Main) reload(ctx context.Context, dep *institutions.Deployment) {
	dir, err := institutions.ReadDir(m.configDir)
	if err != nil {
		m.logger.Error("reload refused: every institution goes on as it was", "err", err.Error())
		return
	}
	ch := dep.Apply(ctx, dir)
	for _, r := range ch.Refused {
		m.logger.Error("reload: config refused; a running institution goes on with its old config", "college", r.Name, "err", r.Error())
	}
	m.logger.Info("reloaded", "started", ch.Started, "restarted", ch.Restarted, "stopped", ch.Stopped, "refused", len(ch.Refused))
}

// checkInstitution is check-config's offline check of one institution's
// file, which a reload asks before restarting it: its secrets and the
// folders of its local drops.
func (m *Main) checkInstitution(inst institutions.Institution) error {
	var errs []error
	for _, ref := range inst.Config.Secrets() {
		if _, err := ref.Load(m.Getenv); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := inst.Config.WebhookSecret().Load(m.Getenv); err != nil {
		errs = append(errs, err)
	}
	if err := inst.Config.CheckFolders(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// institutionMain is the Main of one institution of the deployment: the
// same streams, environment and clock, its own config, logger (each line
// names the college), jobs, gates and Alma metrics.
func (m *Main) institutionMain(inst institutions.Institution) *Main {
	return &Main{
		Stdout: m.Stdout, Stderr: m.Stderr, Getenv: m.Getenv, Now: m.Now, Sleep: m.Sleep,
		cmd: m.cmd, configPath: inst.Path, config: inst.Config,
		logger: newLogger(m.Stderr, inst.Config.Log).With(institutions.Label, inst.Name),
	}
}

// servedInstitution is one institution of `serve -config-dir`: its jobs,
// opened, with its webhook handler and status page.
type servedInstitution struct {
	name    string
	m       *Main
	jobs    *reconcile.Jobs
	started time.Time
	hook    http.Handler
	page    *statusPage
}

// openInstitution is the deployment's Opener: it opens the institution's
// jobs as serve opens one config's (its journal, drops, Alma client with
// its own rate limiter and quota) and registers its metrics on reg.
func (m *Main) openInstitution(ctx context.Context, inst institutions.Institution, reg prometheus.Registerer) (institutions.Unit, error) {
	im := m.institutionMain(inst)
	secret, err := inst.Config.WebhookSecret().Load(im.Getenv)
	if err != nil {
		return nil, err
	}
	jobs, err := im.openJobs(ctx, true)
	if err != nil {
		im.Close()
		return nil, err
	}
	metrics.Register(reg, im.setup.Journal, im.almaMetrics(), im.logger)
	if im.setup.Quota != nil {
		reg.MustRegister(metrics.NewQuotaCollector(im.setup.Quota))
	}
	u := &servedInstitution{name: inst.Name, m: im, jobs: jobs, started: im.Now()}
	u.hook = alma.NewWebhookHandler([]byte(secret.Reveal()), im.loanReturned(), &alma.WebhookOptions{Logger: im.logger})
	u.page = newStatusPage(im, jobs, u.started)
	u.page.base = collegePath(inst.Name)
	return u, nil
}

func (u *servedInstitution) Webhook() http.Handler { return u.hook }

// Run runs the institution's jobs as serve runs one config's: while this
// process holds the institution's active lease (ha.go), on their
// schedules, at Alma's JOB_END, and the webhook events worker, until ctx
// ends; then it waits for the running jobs, which see ctx cancelled, and
// closes the journal and drops.
func (u *servedInstitution) Run(ctx context.Context) error {
	m := u.m
	defer m.Close()
	return m.serveInstance(ctx, m.setup.Journal, m.config.Serve.Lease.D(),
		func(ctx context.Context) error { return m.runActive(ctx, u.jobs) })
}

// collegePath is the path of an institution's status page.
func collegePath(name string) string { return "/college/" + name + "/" }

// listenDeployment starts the deployment's one listener on -listen:
// every institution's webhooks, /healthz, /readyz, /metrics and the
// status pages, the last three behind the status token when one is set
// (FEEBRIDGE_STATUS_TOKEN; each institution's own token is not used).
func (m *Main) listenDeployment(dep *institutions.Deployment) (*http.Server, error) {
	token, err := config.Default().LoadStatusToken(m.Getenv)
	if err != nil {
		return nil, err
	}
	if token.IsZero() {
		m.logger.Warn("no status token (" + config.EnvStatusToken + "): the status pages and /metrics are open to whoever reaches the listener")
	}
	mux := http.NewServeMux()
	mux.Handle(institutions.WebhookPrefix, dep.Webhooks())
	mux.HandleFunc("GET /healthz", deploymentHealthz(dep))
	mux.HandleFunc("GET /readyz", deploymentReadyz(dep, ""))
	mux.HandleFunc("GET /readyz/{college}", func(w http.ResponseWriter, r *http.Request) {
		deploymentReadyz(dep, r.PathValue("college"))(w, r)
	})
	mux.Handle("GET /metrics", requireToken(token.Reveal(), promhttp.HandlerFor(dep.Gatherer(), promhttp.HandlerOpts{})))
	mux.Handle("GET /{$}", requireToken(token.Reveal(), deploymentIndex(dep)))
	mux.Handle("GET /college/{college}/{$}", requireToken(token.Reveal(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := served(dep, r.PathValue("college"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		u.page.ServeHTTP(w, r)
	})))
	ln, err := net.Listen("tcp", m.listenAddr)
	if err != nil {
		return nil, fmt.Errorf("-listen: %w", err)
	}
	srv := m.startHTTP(ln, mux)
	m.logger.Info("listening", "addr", ln.Addr().String(), "webhooks", institutions.WebhookPrefix+"NAME", "colleges", dep.Names())
	if m.Listening != nil {
		m.Listening(ln.Addr().String())
	}
	return srv, nil
}

// served is the running institution name, as serve -config-dir opened it.
func served(dep *institutions.Deployment, name string) (*servedInstitution, bool) {
	u, ok := dep.Unit(name)
	if !ok {
		return nil, false
	}
	s, ok := u.(*servedInstitution)
	return s, ok
}

// deploymentHealthz answers 200 when every institution's journal answers,
// else 503 naming those whose journal does not.
func deploymentHealthz(dep *institutions.Deployment) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		var bad []string
		for _, name := range dep.Names() {
			if u, ok := served(dep, name); ok {
				if err := u.m.setup.Journal.Ping(ctx); err != nil {
					bad = append(bad, name+": journal: unavailable")
				}
			}
		}
		writeProbe(w, bad)
	}
}

// writeProbe answers a health or readiness probe: 503 with one line a
// problem, or 200 "ok" when there is none.
func writeProbe(w http.ResponseWriter, problems []string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, strings.Join(problems, "\n"))
		return
	}
	fmt.Fprintln(w, "ok")
}

// deploymentReadyz answers serve's /readyz for each institution (only
// for name, when given: /readyz/NAME): 503 with each one's reasons, each
// line starting with its name, when any is not ready; 200 otherwise.
func deploymentReadyz(dep *institutions.Deployment, name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		names := dep.Names()
		if name != "" {
			names = []string{name}
		}
		var reasons []string
		for _, n := range names {
			u, ok := served(dep, n)
			if !ok {
				http.NotFound(w, r)
				return
			}
			for _, why := range u.m.unready(ctx, u.started) {
				reasons = append(reasons, n+": "+why)
			}
		}
		writeProbe(w, reasons)
	}
}
