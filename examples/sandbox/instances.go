package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/reconcile/instance"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// activeLease is the lease the active instance holds, as feesync serve
// names it.
const activeLease = instance.DefaultLease

// errInstanceKilled is what a killed instance's job sees at the step it
// was killed at; nothing of that instance runs after it (see kill).
var errInstanceKilled = errors.New("instance killed")

// process is one feesync process of -instances: its own journal handle
// and jobs, built by config.Open from its own config (serve.instance is
// its name).
type process struct {
	name    string
	journal *reconcile.Journal
	jobs    *reconcile.Jobs
	dead    bool // killed, and not yet started again
}

// killing is one kill of the active instance: when, in which job and
// step, who took over, and how long the takeover took on the simulated
// clock; left is what remained of the dead instance's lease.
type killing struct {
	at           time.Time
	job, step    string
	victim, heir string
	left, took   time.Duration
}

// instances are the feesync processes of -instances N over one journal:
// only the holder of the active lease runs the jobs and the events worker,
// webhooks go to any of them. The active one is killed at Kills moments
// of the week, drawn from the seed, at a step of a job at or after each
// (see hook and kill), and a standby takes the lease over by the
// journal's lease rules, on the simulated clock the journal reads.
type instances struct {
	d     *district
	lease time.Duration
	list  []*process
	// active is the instance that holds held, the active lease.
	active *process
	held   journal.Lease
	// job is the job running now, for the kills' record; run counts
	// the runs of do, and killedRun is the run of the last kill.
	job            string
	run, killedRun int
	// plan is the kill moments still to come, soonest first; for each,
	// skip is how many steps pass first (so that a kill falls at any
	// step of a job), and phase how long after the active instance's
	// last renewal the kill comes.
	rand  *rand.Rand // the plan's draws, then which standby takes over
	plan  []time.Time
	skip  []int
	phase []time.Duration
	kills []killing

	// mu guards the processes' journal, jobs and dead, which the
	// webhook listener's goroutines read, and delivered.
	mu sync.Mutex
	// delivered counts the webhook deliveries each instance journaled.
	delivered map[string]int
}

// newInstances plans the kills over the days simulated: Kills moments
// drawn from the seed, none in the last hour of the last day, each with
// the steps it lets pass (0 to 3) and its phase: a time under lease/3,
// the period of the active instance's renewals in feesync serve.
func newInstances(d *district) *instances {
	ha := &instances{d: d, lease: d.s.baseConfig().Serve.Lease.D(), killedRun: -1, delivered: map[string]int{}}
	r := rand.New(rand.NewPCG(uint64(d.s.Seed), 0x1257a4ce5))
	ha.rand = r
	span := time.Duration(d.s.Days)*24*time.Hour - time.Hour
	for range d.s.Kills {
		ha.plan = append(ha.plan, d.s.Start.Add(time.Duration(r.Int64N(int64(span)))))
		ha.skip = append(ha.skip, r.IntN(4))
		ha.phase = append(ha.phase, time.Duration(r.Int64N(int64(ha.lease/3))).Truncate(time.Second))
	}
	slices.SortFunc(ha.plan, func(a, b time.Time) int { return a.Compare(b) })
	return ha
}

// start starts the instances: the first takes the active lease, the
// others are standbys.
func (ha *instances) start(ctx context.Context) error {
	for i := range ha.d.s.Instances {
		in := &process{name: fmt.Sprintf("sandbox-%d", i+1)}
		if err := ha.open(ctx, in); err != nil {
			return err
		}
		ha.list = append(ha.list, in)
	}
	l, err := ha.list[0].journal.TakeLease(ctx, activeLease, ha.lease)
	if err != nil {
		return fmt.Errorf("instance %s: %w", ha.list[0].name, err)
	}
	ha.setActive(ha.list[0], l)
	return nil
}

// open starts the process of in: its journal and jobs.
func (ha *instances) open(ctx context.Context, in *process) error {
	setup, err := ha.d.openSetup(ctx, in.name, func(step string) error { return ha.hook(in, step) })
	if err != nil {
		return fmt.Errorf("instance %s: %w", in.name, err)
	}
	ha.mu.Lock()
	in.journal, in.jobs, in.dead = setup.Journal, setup.Jobs, false
	ha.mu.Unlock()
	return nil
}

// restart closes in's journal and opens it again: a job run that failed
// under -faults, restarted as the sandbox without instances restarts
// feesync. The active instance keeps its lease.
func (ha *instances) restart(ctx context.Context, in *process) error {
	if err := in.journal.Close(); err != nil {
		return err
	}
	if err := ha.open(ctx, in); err != nil {
		return err
	}
	if in == ha.active {
		ha.setActive(in, ha.held)
	}
	return nil
}

// setActive makes in the active instance, holding l: its jobs are those
// the district runs.
func (ha *instances) setActive(in *process, l journal.Lease) {
	ha.active, ha.held = in, l
	ha.d.mu.Lock()
	ha.d.journal, ha.d.jobs = in.journal, in.jobs
	ha.d.mu.Unlock()
}

// hook is the fault hook of in's jobs: the active instance is killed at
// a step at or after the next planned moment (after the steps the plan
// lets pass), of a run (a job or the events worker) other than the one
// killed last; then the faults of -faults, if any.
func (ha *instances) hook(in *process, step string) error {
	if in.dead {
		return errInstanceKilled
	}
	due := in == ha.active && ha.run != ha.killedRun && len(ha.plan) > 0 && !ha.d.clock.Now().Before(ha.plan[0])
	if due && ha.skip[0] > 0 {
		ha.skip[0]--
		due = false
	}
	if due {
		phase := ha.phase[0]
		ha.plan, ha.skip, ha.phase = ha.plan[1:], ha.skip[1:], ha.phase[1:]
		ha.kill(in, step, phase)
		return fmt.Errorf("%w at step %s", errInstanceKilled, step)
	}
	if ha.d.faults != nil {
		return ha.d.faults.kill(step)
	}
	return nil
}

// kill kills in as SIGKILL would, phase after its last renewal of the
// active lease (the clock moves on by phase): it does nothing more. Its
// journal handle is closed, as the dead process's connections go away
// (an open transaction is rolled back by the database), so that whatever
// its stopped job would still do on its way out (releasing its leases,
// recording the failure) reaches nothing: its leases stay until they
// expire.
func (ha *instances) kill(in *process, step string, phase time.Duration) {
	ha.d.clock.Advance(phase)
	ha.killedRun = ha.run
	ha.mu.Lock()
	in.dead = true
	ha.mu.Unlock()
	_ = in.journal.Close()
	ha.kills = append(ha.kills, killing{at: ha.d.clock.Now(), job: ha.job, step: step, victim: in.name})
	ha.d.log.Warn("sandbox: instance killed", "instance", in.name, "job", ha.job, "step", step)
}

// renew is what the active instance's renewals every lease/3 amount to
// by the time a task starts: its lease runs from now.
func (ha *instances) renew(ctx context.Context) error {
	l, err := ha.active.journal.RenewLease(ctx, ha.held, ha.lease)
	if err != nil {
		return fmt.Errorf("instance %s: %w", ha.active.name, err)
	}
	ha.held = l
	return nil
}

// takeover has a standby take the active lease over from the dead
// instance, as feesync serve's standby does (package reconcile/instance):
// it tries the lease every lease/3 or at the holder's expiry if sooner,
// sleeping on the simulated clock, which the journal reads, and gets it
// once the dead one's lease has expired. It then waits for the leases of
// the dead instance's job runs, so that the interrupted job can run
// again, and records how long it all took from the kill.
func (ha *instances) takeover(ctx context.Context) error {
	k := &ha.kills[len(ha.kills)-1]
	var standbys []*process
	for _, in := range ha.list {
		if !in.dead {
			standbys = append(standbys, in)
		}
	}
	if len(standbys) == 0 {
		return errors.New("instances: every instance is dead")
	}
	// Which standby wakes first: drawn from the seed.
	heir := standbys[ha.rand.IntN(len(standbys))]
	left, err := ha.leaseLeft(ctx, heir, func(l journal.Lease) bool { return l.Name == activeLease })
	if err != nil {
		return err
	}
	k.left = left
	standby := &instance.Instance{Store: heir.journal, TTL: ha.lease, Now: ha.d.clock.Now}
	for {
		l, wait, err := standby.Take(ctx)
		if err == nil {
			ha.setActive(heir, l)
			break
		}
		if !errors.Is(err, journal.ErrLocked) {
			return fmt.Errorf("instance %s: %w", heir.name, err)
		}
		ha.d.clock.Advance(wait) // the standby sleeps
	}
	// The interrupted run's job lease, held by the dead instance.
	if err := ha.sleepUntilExpiry(ctx, heir, func(l journal.Lease) bool { return l.Instance == k.victim }); err != nil {
		return err
	}
	if err := ha.renew(ctx); err != nil {
		return err
	}
	k.heir, k.took = heir.name, ha.d.clock.Now().Sub(k.at)
	ha.d.log.Warn("sandbox: instance took over", "instance", heir.name, "after", k.took)
	return nil
}

// leaseLeft is how long the latest of the leases that match has left to
// run at the simulated clock's time (0 if none).
func (ha *instances) leaseLeft(ctx context.Context, in *process, match func(journal.Lease) bool) (time.Duration, error) {
	leases, err := in.journal.Leases(ctx)
	if err != nil {
		return 0, fmt.Errorf("instance %s: %w", in.name, err)
	}
	var left time.Duration
	for _, l := range leases {
		if match(l) {
			left = max(left, l.Expires.Sub(ha.d.clock.Now()))
		}
	}
	return left, nil
}

// sleepUntilExpiry moves the simulated clock on to the expiry of the
// latest of the leases that match: the standby sleeps until then.
func (ha *instances) sleepUntilExpiry(ctx context.Context, in *process, match func(journal.Lease) bool) error {
	left, err := ha.leaseLeft(ctx, in, match)
	if err != nil {
		return err
	}
	if left > 0 {
		ha.d.clock.Advance(left)
	}
	return nil
}

// reviveDead starts the killed instances again, as standbys: a process
// restarted by its service manager.
func (ha *instances) reviveDead(ctx context.Context) error {
	for _, in := range ha.list {
		if in.dead {
			if err := ha.open(ctx, in); err != nil {
				return err
			}
		}
	}
	return nil
}

// do runs fn, a job or the events worker, on the active instance, with
// its journal writes fenced by the active lease, as feesync serve runs
// them (fn keeps its own result and error). When the active instance is
// killed during fn, a standby takes over and fn runs again there; the
// dead one then starts again as a standby. The error is the instances'
// own: a lease the active instance could not renew, a takeover that
// failed.
func (ha *instances) do(ctx context.Context, job string, fn func(ctx context.Context)) error {
	ha.job = job
	ha.run++
	defer func() { ha.job = "" }()
	for {
		if err := ha.renew(ctx); err != nil {
			return err
		}
		active := ha.active
		fn(journal.WithFence(ctx, ha.held))
		if !active.dead {
			return nil
		}
		if err := ha.takeover(ctx); err != nil {
			return err
		}
		if err := ha.reviveDead(ctx); err != nil {
			return err
		}
	}
}

// webhook journals a delivery of Alma's on one of the instances, chosen
// from the seed and the event: each listens. A dead one does not answer,
// and Alma tries again later.
func (ha *instances) webhook(ctx context.Context, ev alma.Event) error {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", ha.d.s.Seed, ev.ID)
	in := ha.list[h.Sum64()%uint64(len(ha.list))]
	ha.mu.Lock()
	dead, jobs := in.dead, in.jobs
	ha.mu.Unlock()
	if dead {
		return fmt.Errorf("instance %s does not answer", in.name)
	}
	if err := almaport.WebhookCallback(jobs)(ctx, ev); err != nil {
		return err
	}
	ha.mu.Lock()
	ha.delivered[in.name]++
	ha.mu.Unlock()
	return nil
}

// close closes the journals of the instances still running.
func (ha *instances) close() error {
	var errs []error
	for _, in := range ha.list {
		if !in.dead {
			errs = append(errs, in.journal.Close())
		}
	}
	return errors.Join(errs...)
}

// check checks what two instances could break: each waiver of a returned
// item feesync made once, and every webhook event the journal holds
// handled (none pending).
func (ha *instances) check(ctx context.Context) []string {
	problems := waivedTwice(ha.d.sim.Alma())
	c, err := ha.active.journal.EventCounts(ctx)
	switch {
	case err != nil:
		problems = append(problems, err.Error())
	case c.Pending > 0:
		problems = append(problems, fmt.Sprintf("%d webhook events still pending", c.Pending))
	}
	return problems
}

// report prints each kill and the worst takeover.
func (ha *instances) report(w io.Writer) {
	fmt.Fprintf(w, "\nInstances: %d feesync instances on one journal, lease %s; the active one killed %d times (as SIGKILL: no cleanup).\n",
		len(ha.list), ha.lease, len(ha.kills))
	var worst time.Duration
	for _, k := range ha.kills {
		fmt.Fprintf(w, "  %s  %-9s killed in %-14s before step %-7s  %s took over in %s (lease left %s)\n",
			k.at.Format("Mon 15:04:05"), k.victim, k.job, k.step, k.heir, k.took, k.left)
		worst = max(worst, k.took)
	}
	fmt.Fprintf(w, "Worst takeover: %s on the simulated clock (bound: the lease, %s).\n", worst, ha.lease)
	ha.mu.Lock()
	defer ha.mu.Unlock()
	fmt.Fprintf(w, "Webhook deliveries journaled:")
	for i, in := range ha.list {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(w, "%s %d by %s", sep, ha.delivered[in.name], in.name)
	}
	fmt.Fprintf(w, "; the active instance's worker handled them.\n")
}

// feeHistory is what waivedTwice reads of Alma: its fees and the actions
// on each.
type feeHistory interface {
	AllFees() []fees.Fee
	Transactions(feeID string) []almatest.Transaction
}

// waivedTwice names the fees that feesync's lost-returns handler waived
// more than once (its reason and comment on two waivers).
func waivedTwice(a feeHistory) []string {
	var problems []string
	for _, f := range a.AllFees() {
		n := 0
		for _, t := range a.Transactions(f.ID) {
			if t.Type == "WAIVE" && t.Reason == waiveReason && t.Comment == waiveComment {
				n++
			}
		}
		if n > 1 {
			problems = append(problems, fmt.Sprintf("fee %s of %s was waived %d times for its return", f.ID, f.UserID, n))
		}
	}
	return problems
}
