package institutions

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Label is the label every metric of an institution carries, naming it.
const Label = "college"

// WebhookPrefix is where a deployment takes Alma's webhooks: the
// institution's name follows (/webhooks/alma/NAME).
const WebhookPrefix = "/webhooks/alma/"

// A Unit is one institution opened by the program: its jobs, ready to run.
type Unit interface {
	// Run runs the institution's jobs until ctx ends (or, in a
	// simulation, until its week is over), lets its running jobs see the
	// cancellation, closes what it opened and returns.
	Run(ctx context.Context) error
	// Webhook takes Alma's deliveries for this institution, checked with
	// its own secret; nil when it takes none.
	Webhook() http.Handler
}

// An Opener opens one institution: its journal, drops, Alma client and
// jobs. What it registers on reg is gathered with the institution's
// label, and unregistered when the institution stops.
type Opener func(ctx context.Context, inst Institution, reg prometheus.Registerer) (Unit, error)

// Options are a deployment's settings; the zero value is usable.
type Options struct {
	// Logger receives the deployment's own lines (each institution logs
	// through what its Opener gave it); nil discards them.
	Logger *slog.Logger
	// Check, when set, is asked about a new or changed file before the
	// institution is (re)started for it; an error refuses the file, and
	// a running institution goes on with its old config (feesync runs
	// check-config's checks here).
	Check func(Institution) error
}

// A Deployment runs institutions, each in goroutines of its own.
type Deployment struct {
	open Opener
	opts Options
	log  *slog.Logger
	reg  *prometheus.Registry

	applying sync.Mutex // one Apply at a time
	mu       sync.Mutex // guards running
	running  map[string]*running
}

// running is one institution's unit and its goroutine.
type running struct {
	inst    Institution
	unit    Unit
	cancel  context.CancelFunc
	done    chan struct{}
	err     error // Run's, once done is closed
	metrics *labelled
}

// New returns a deployment that opens its institutions with open.
func New(open Opener, opts *Options) *Deployment {
	d := &Deployment{open: open, reg: prometheus.NewRegistry(), running: map[string]*running{}}
	if opts != nil {
		d.opts = *opts
	}
	d.log = d.opts.Logger
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d
}

// Gatherer gathers every running institution's metrics, each with its
// Label, for /metrics.
func (d *Deployment) Gatherer() prometheus.Gatherer { return d.reg }

// Changes are what one Apply did, by institution name.
type Changes struct {
	Started, Restarted, Stopped []string
	// Refused are the files not applied: a bad file (its institution, if
	// running, goes on with its old config) or one that failed to open.
	Refused []*FileError
}

// Start opens and starts every institution of dir. It refuses to start
// with a refused file or an institution that does not open: then it stops
// what it started and returns every error, naming each file.
func (d *Deployment) Start(ctx context.Context, dir *Dir) error {
	if err := dir.Err(); err != nil {
		return err
	}
	ch := d.Apply(ctx, dir)
	if len(ch.Refused) == 0 {
		return nil
	}
	d.Stop()
	return (&Dir{Refused: ch.Refused}).Err()
}

// Apply makes the running institutions those of dir: it starts the new
// ones, stops those whose file is gone, and restarts those whose file
// changed, each alone; an institution whose file is unchanged is not
// touched. A refused file (bad, failing Options.Check, or failing to
// open) changes nothing for its institution: one running goes on with
// its old config. Each unit's context derives from ctx.
func (d *Deployment) Apply(ctx context.Context, dir *Dir) Changes {
	d.applying.Lock()
	defer d.applying.Unlock()
	var ch Changes
	ch.Refused = append(ch.Refused, dir.Refused...)
	keep := map[string]bool{}
	for _, r := range dir.Refused {
		keep[r.Name] = true
	}
	for _, inst := range dir.Institutions {
		keep[inst.Name] = true
		old := d.lookup(inst.Name)
		if old != nil && old.inst.Same(inst) && !old.ended() {
			continue
		}
		if err := d.check(inst); err != nil {
			ch.Refused = append(ch.Refused, &FileError{Name: inst.Name, Path: inst.Path, Err: err})
			continue
		}
		if old == nil {
			if err := d.startOne(ctx, inst); err != nil {
				ch.Refused = append(ch.Refused, err)
				continue
			}
			ch.Started = append(ch.Started, inst.Name)
			continue
		}
		d.stopOne(old)
		if err := d.startOne(ctx, inst); err != nil {
			ch.Refused = append(ch.Refused, err)
			d.log.Error("institution restart failed; back on its old config", "college", inst.Name, "err", err.Error())
			if err := d.startOne(ctx, old.inst); err != nil {
				d.log.Error("institution stopped: its old config does not open either", "college", inst.Name, "err", err.Error())
			}
			continue
		}
		ch.Restarted = append(ch.Restarted, inst.Name)
	}
	for _, name := range d.Names() {
		if !keep[name] {
			d.stopOne(d.lookup(name))
			ch.Stopped = append(ch.Stopped, name)
		}
	}
	return ch
}

func (d *Deployment) check(inst Institution) error {
	if d.opts.Check == nil {
		return nil
	}
	return d.opts.Check(inst)
}

// startOne opens inst and runs its unit in a goroutine of its own; a
// panic there ends that institution only, as an error of its Run.
func (d *Deployment) startOne(ctx context.Context, inst Institution) *FileError {
	reg := &labelled{Registerer: prometheus.WrapRegistererWith(prometheus.Labels{Label: inst.Name}, d.reg)}
	u, err := d.open(ctx, inst, reg)
	if err != nil {
		reg.unregisterAll()
		return &FileError{Name: inst.Name, Path: inst.Path, Err: err}
	}
	uctx, cancel := context.WithCancel(ctx)
	r := &running{inst: inst, unit: u, cancel: cancel, done: make(chan struct{}), metrics: reg}
	d.mu.Lock()
	d.running[inst.Name] = r
	d.mu.Unlock()
	d.log.Info("institution started", "college", inst.Name, "config", inst.Path)
	go func() {
		defer close(r.done)
		defer func() {
			if p := recover(); p != nil {
				r.err = fmt.Errorf("panic: %v", p)
				d.log.Error("institution panicked; it is stopped, the others go on", "college", inst.Name,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
		}()
		r.err = u.Run(uctx)
		if r.err != nil && uctx.Err() == nil {
			d.log.Error("institution ended", "college", inst.Name, "err", r.err.Error())
		}
	}()
	return nil
}

// ended reports whether r's Run returned (it failed, panicked, or its
// simulated week is over): Apply starts it again, even unchanged.
func (r *running) ended() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// stopOne cancels r's context, waits for its Run to return and removes it.
func (d *Deployment) stopOne(r *running) {
	r.cancel()
	<-r.done
	r.metrics.unregisterAll()
	d.mu.Lock()
	if d.running[r.inst.Name] == r {
		delete(d.running, r.inst.Name)
	}
	d.mu.Unlock()
	d.log.Info("institution stopped", "college", r.inst.Name)
}

func (d *Deployment) lookup(name string) *running {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.running[name]
}

// Names lists the institutions running, in name order.
func (d *Deployment) Names() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	names := make([]string, 0, len(d.running))
	for n := range d.running {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Unit returns the unit of the institution name, and whether it runs.
func (d *Deployment) Unit(name string) (Unit, bool) {
	if r := d.lookup(name); r != nil {
		return r.unit, true
	}
	return nil, false
}

// Wait waits until every institution's Run has returned (in a simulation,
// its week is over) and returns each Run's error by name (nil for those
// that ended well). It does not stop them: see Stop.
func (d *Deployment) Wait() map[string]error {
	d.mu.Lock()
	rs := make([]*running, 0, len(d.running))
	for _, r := range d.running {
		rs = append(rs, r)
	}
	d.mu.Unlock()
	errs := make(map[string]error, len(rs))
	for _, r := range rs {
		<-r.done
		errs[r.inst.Name] = r.err
	}
	return errs
}

// Stop cancels every institution, waits for their Runs to return and
// forgets them; each one's error is logged by its Run or Opener's logger.
func (d *Deployment) Stop() map[string]error {
	d.applying.Lock()
	defer d.applying.Unlock()
	d.mu.Lock()
	rs := make([]*running, 0, len(d.running))
	for _, r := range d.running {
		r.cancel()
		rs = append(rs, r)
	}
	d.mu.Unlock()
	errs := make(map[string]error, len(rs))
	for _, r := range rs {
		d.stopOne(r)
		errs[r.inst.Name] = r.err
	}
	return errs
}

// Webhooks routes WebhookPrefix+NAME to the webhook handler of the
// institution NAME (which checks the delivery with that institution's
// own secret); an unknown name, or one that takes no webhooks, is 404.
// Mount it on WebhookPrefix.
func (d *Deployment) Webhooks() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, WebhookPrefix)
		if !ok || CheckName(name) != nil {
			http.NotFound(w, r)
			return
		}
		u, ok := d.Unit(name)
		if !ok || u.Webhook() == nil {
			http.NotFound(w, r)
			return
		}
		u.Webhook().ServeHTTP(w, r)
	})
}

// labelled is an institution's registerer: its collectors get the
// institution's label, and are all unregistered when it stops.
type labelled struct {
	prometheus.Registerer
	mu sync.Mutex
	cs []prometheus.Collector
}

func (l *labelled) Register(c prometheus.Collector) error {
	if err := l.Registerer.Register(c); err != nil {
		return err
	}
	l.mu.Lock()
	l.cs = append(l.cs, c)
	l.mu.Unlock()
	return nil
}

func (l *labelled) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := l.Register(c); err != nil {
			panic(err)
		}
	}
}

func (l *labelled) unregisterAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.cs {
		l.Registerer.Unregister(c)
	}
	l.cs = nil
}
