package almatest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// BasePath is the path under which the fake serves Alma's REST API, as
// Alma does.
const BasePath = "/almaws/v1"

// Options configure a Server. The zero value (or nil) is usable: see each
// field for its default.
type Options struct {
	// Clock dates everything the fake does. Nil means the wall clock; tests
	// and the sandbox pass a *ManualClock.
	Clock Clock
	// Seed makes the fault decisions and the API key repeatable.
	Seed int64
	// APIKey is the key clients must send. Empty means a key derived from
	// Seed (read it with Server.APIKey).
	APIKey string
	// Currency of every fee. Empty means USD.
	Currency fees.Currency
	// Institution is the institution code shown in webhooks. Empty means
	// "01FEEBRIDGE_INST".
	Institution string
	// InstitutionID is the numeric institution id written in bursar files
	// and at the end of every id, as Alma does. Empty means "6761".
	InstitutionID string
	// Library is the default owning library of items and fees. Empty means
	// "MAIN".
	Library string
	// Policy is the lost-item policy of the daily lost-item job and of
	// DeclareLost. Zero amounts mean the defaults of DefaultLostPolicy.
	Policy LostPolicy
	// OverdueFinePerDay is charged per whole day a loan is overdue. Zero
	// means 0.25 in Currency.
	OverdueFinePerDay fees.Money
	// PartialWaiveBeforeTransfer lets staff waive part of a fee not yet
	// transferred, as Alma does. Transferred fees are always waived in
	// full only (rule R5), whatever this says. Default false: the strict
	// fees.Policy.
	PartialWaiveBeforeTransfer bool
	// Profiles are the bursar export profiles. With none, every profile
	// name matches every fee.
	Profiles []ExportProfile
	// BursarLocation, when set, is the time zone of the dates in bursar
	// exports, written with its abbreviation as a suffix
	// ("03/11/2026 18:00:00 PST"), as some institutions' files have them.
	// Nil means UTC with no suffix.
	BursarLocation *time.Location
	// WebhookURL receives the signed webhook events. Empty means events
	// are recorded but not sent.
	WebhookURL string
	// WebhookSecret signs each event (X-Exl-Signature).
	WebhookSecret []byte
	// WebhookRetryDelays are the waits, in simulated time, before each new
	// attempt after a 5xx or a network error. Nil means Alma's 1 h, 3 h,
	// 6 h.
	WebhookRetryDelays []time.Duration
	// WebhookEvents are the loan events sent: LOAN_CREATED, LOAN_LOST and
	// LOAN_RETURNED, as an Alma webhook profile chooses them. Nil means
	// LOAN_RETURNED only.
	WebhookEvents []string
	// WebhookClient sends the events. Nil means a client with a 10 s
	// timeout.
	WebhookClient *http.Client
	// Faults are injected into API calls from the start (see SetFaults).
	Faults Faults
	// Analytics serves the open fees report of Alma Analytics, with its
	// overnight refresh (see AnalyticsOptions). Nil means no such report.
	Analytics *AnalyticsOptions
}

// LostPolicy is what the fake charges when a loan turns lost, like the
// "Change to lost" part of an Alma loan profile.
type LostPolicy struct {
	// ReplacementFee is charged as LOSTITEMREPLACEMENTFEE unless the item
	// has its own ReplacementCost. Zero means 100.00.
	ReplacementFee fees.Money
	// ProcessFee is charged as LOSTITEMPROCESSFEE. Zero means 10.00; a
	// negative amount means no process fee.
	ProcessFee fees.Money
	// LostAfterDays is how many days after the due date the daily lost
	// item job declares a loan lost. Zero means 28.
	LostAfterDays int
	// RefundRatios is the terms of use's "Lost item replacement fee
	// refund ratio", by lost-item fee type: when a lost loan comes back,
	// that share of what was paid on each of its fees of the type is
	// refunded (see refunds.go). None, as Alma's default "No lost item
	// replacement fee refund ratio", refunds nothing.
	RefundRatios map[fees.Type]fees.RefundRatio
}

// ExportProfile selects the fees a bursar export takes, like an Alma
// "Bursar" integration profile.
type ExportProfile struct {
	Name string
	// Types limits the export to these fee types; empty means all.
	Types []fees.Type
	// Owners limits the export to fees owned by these libraries; empty
	// means all.
	Owners []string
}

func (p ExportProfile) matches(f *fees.Fee) bool {
	if len(p.Types) > 0 && !slices.Contains(p.Types, f.Type) {
		return false
	}
	if len(p.Owners) > 0 && !slices.Contains(p.Owners, f.Owner) {
		return false
	}
	return true
}

// User is a patron. ID is the primary id, which feebridge's districts set
// to the student's PeopleSoft EMPLID.
type User struct {
	ID        string
	FirstName string
	LastName  string
	// IDType is the identifier type code written as user/type in bursar
	// exports. Empty means "02".
	IDType string
	// Group is the user group code. Empty means "STUDENT".
	Group string
	Email string
}

// FullName returns "First Last".
func (u User) FullName() string {
	switch {
	case u.FirstName == "":
		return u.LastName
	case u.LastName == "":
		return u.FirstName
	}
	return u.FirstName + " " + u.LastName
}

// patronName is the name as bursar exports write it: "Last, First".
func (u User) patronName() string {
	if u.FirstName == "" || u.LastName == "" {
		return u.FullName()
	}
	return u.LastName + ", " + u.FirstName
}

// Item is a physical item that can be loaned.
type Item struct {
	Barcode    string
	Title      string
	Author     string
	CallNumber string
	// Library owning the item. Empty means Options.Library.
	Library string
	// Location code. Empty means "STACKS".
	Location string
	// ReplacementCost, when valid and positive, is charged instead of the
	// policy's replacement fee when the item is lost.
	ReplacementCost fees.Money
	// MMSID, HoldingID and PID are Alma's ids of the record, holding and
	// item; generated when empty.
	MMSID, HoldingID, PID string
	// ProcessType is set by the fake: "LOAN" while loaned, "LOST_LOAN"
	// once lost, "" when on the shelf.
	ProcessType string
}

// Loan is one loan of an item to a user.
type Loan struct {
	ID         string
	UserID     string
	Barcode    string
	LoanDate   time.Time
	DueDate    time.Time
	ReturnDate time.Time // zero while the loan is active
	// Status is "ACTIVE" or "COMPLETE".
	Status string
	// ProcessStatus is "NORMAL" or "LOST".
	ProcessStatus string
	LostDate      time.Time
	// FinedUntil is the due date plus the whole days already charged as
	// overdue fines.
	FinedUntil time.Time
}

// Block is a user block.
type Block struct {
	// Type is the block type code, "GENERAL" for the blocks the fake adds.
	Type string
	// Code is the block description code; see BlockLostItem.
	Code        string
	Description string
	// Status is "ACTIVE" or "INACTIVE".
	Status  string
	Note    string
	Created time.Time
	Expiry  time.Time
}

// BlockLostItem is the block description code the fake puts on a user when
// it assesses lost-item fees (description "Lost item fee", type GENERAL).
// Alma's block codes are set per institution; this one is the fake's
// choice, among the codes that package alma's DefaultFeeBlock lifts.
const BlockLostItem = "LOST_ITEM_FEE"

// Transaction is one action on a fee, as Alma lists it under the fee.
type Transaction struct {
	ID string
	// Type is PAYMENT, WAIVE, DISPUTE, RESTORE or REFUND.
	Type   string
	Amount fees.Money
	// Method is the payment method: CASH, CREDIT_CARD, ONLINE, or BURSAR
	// for a payment imported from the bursar.
	Method     string
	Reason     string
	Comment    string
	ExternalID string
	Time       time.Time
	CreatedBy  string
	// Transferred reports whether the fee was Transferred when the action
	// was taken (a waiver then goes out in the credit export).
	Transferred bool
}

type userRec struct {
	u      User
	blocks []Block
}

type feeRec struct {
	f        fees.Fee
	txns     []Transaction
	loanID   string
	credited map[string]bool // ids of waive transactions already credited
}

// Server is a fake Alma: an in-memory model of users, items, loans, fees
// and blocks behind Alma's REST API on a local HTTP server, plus Alma's
// daily jobs run on demand. Its methods are safe for concurrent use.
type Server struct {
	opts   Options
	clock  Clock
	apiKey string
	policy LostPolicy
	hs     *httptest.Server
	hook   *http.Client

	mu        stateMu // its Lock takes the Analytics snapshot when one is due (analytics_fees.go)
	users     map[string]*userRec
	userOrder []string
	items     map[string]*Item
	itemOrder []string
	loans     map[string]*Loan
	loanOrder []string
	feeByID   map[string]*feeRec
	feeByTxn  map[string][]*feeRec // by bursar transaction id; several fees of different types may share one
	feeOrder  []string
	userFees  map[string][]*feeRec // by user, in the order made: a user's fees without a walk over all
	counters  map[idKind]int64
	imported  map[string]string // file name -> SHA-256
	importSHA map[string]string // SHA-256 -> file name
	hooks     []*delivery
	reports   map[string]*reportCursor
	exports   []exportRec
	jobEnds   jobEndFaults // the next export runs' faults (jobend.go)
	analytics analyticsState

	fmu    sync.Mutex
	faults Faults
	rng    *rand.Rand
	sec    int64 // unix second of the per-second counter
	secN   int
	day    string // simulated day of the quota counter
	dayN   int
	calls  map[string]int
	errN   int // errors answered, for tracking ids

	ops callStats // the calls by operation, day and second (calls.go)
}

// DefaultLostPolicy is the policy of a Server whose options name none.
func DefaultLostPolicy(c fees.Currency) LostPolicy {
	return LostPolicy{
		ReplacementFee: fees.FromMinor(10000, c),
		ProcessFee:     fees.FromMinor(1000, c),
		LostAfterDays:  28,
	}
}

// NewServer starts a fake Alma on 127.0.0.1 and returns it. Close it when
// done. opts may be nil. It panics if opts names a currency feebridge does
// not know, since that is a mistake in the test.
func NewServer(opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Currency == "" {
		o.Currency = fees.USD
	}
	if !o.Currency.Valid() {
		panic(fmt.Sprintf("almatest: unknown currency %q", o.Currency))
	}
	if o.Institution == "" {
		o.Institution = "01FEEBRIDGE_INST"
	}
	if o.InstitutionID == "" {
		o.InstitutionID = "6761"
	}
	if o.Library == "" {
		o.Library = "MAIN"
	}
	def := DefaultLostPolicy(o.Currency)
	if !o.Policy.ReplacementFee.Valid() || o.Policy.ReplacementFee.IsZero() {
		o.Policy.ReplacementFee = def.ReplacementFee
	}
	if !o.Policy.ProcessFee.Valid() || o.Policy.ProcessFee.IsZero() {
		o.Policy.ProcessFee = def.ProcessFee
	}
	if o.Policy.LostAfterDays <= 0 {
		o.Policy.LostAfterDays = def.LostAfterDays
	}
	if !o.OverdueFinePerDay.Valid() || o.OverdueFinePerDay.IsZero() {
		o.OverdueFinePerDay = fees.FromMinor(25, o.Currency)
	}
	if o.WebhookEvents == nil {
		o.WebhookEvents = []string{EventLoanReturned}
	}
	if o.WebhookRetryDelays == nil {
		o.WebhookRetryDelays = []time.Duration{time.Hour, 3 * time.Hour, 6 * time.Hour}
	}
	s := &Server{
		opts:      o,
		clock:     o.Clock,
		policy:    o.Policy,
		hook:      o.WebhookClient,
		users:     map[string]*userRec{},
		items:     map[string]*Item{},
		loans:     map[string]*Loan{},
		feeByID:   map[string]*feeRec{},
		feeByTxn:  map[string][]*feeRec{},
		userFees:  map[string][]*feeRec{},
		counters:  map[idKind]int64{},
		imported:  map[string]string{},
		importSHA: map[string]string{},
		faults:    o.Faults,
		rng:       rand.New(rand.NewPCG(uint64(o.Seed), uint64(o.Seed)^0x9e3779b97f4a7c15)),
		calls:     map[string]int{},
	}
	s.initAnalytics()
	s.apiKey = o.APIKey
	if s.apiKey == "" {
		s.apiKey = fmt.Sprintf("l8xx%016x%016x", s.rng.Uint64(), s.rng.Uint64())
	}
	if s.hook == nil {
		s.hook = &http.Client{Timeout: 10 * time.Second}
	}
	s.hs = httptest.NewServer(s.handler())
	return s
}

// URL returns the base URL of the REST API, ending in /almaws/v1 with no
// trailing slash.
func (s *Server) URL() string { return s.hs.URL + BasePath }

// APIKey returns the key clients must send.
func (s *Server) APIKey() string { return s.apiKey }

// Client returns an HTTP client for the server (the test server's own).
func (s *Server) Client() *http.Client { return s.hs.Client() }

// Close shuts the HTTP server down, closing any connections.
func (s *Server) Close() {
	s.hs.CloseClientConnections()
	s.hs.Close()
}

// Now returns the fake's time.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Currency returns the currency of the fake's fees.
func (s *Server) Currency() fees.Currency { return s.opts.Currency }

type idKind int

const (
	kindItem idKind = iota + 1
	kindLoan
	kindFee
	kindBursar
	kindTxn
	kindExport
	kindEvent
	kindMMS
	kindHolding
	kindReport
)

// newID returns a numeric id like Alma's: a digit for the kind, a
// sequence, and the institution id at the end. Callers hold s.mu.
func (s *Server) newID(k idKind) string {
	s.counters[k]++
	return fmt.Sprintf("%d%09d000%s", k, s.counters[k], s.opts.InstitutionID)
}

// AddUser adds or replaces a user. It fails if the ID is empty.
func (s *Server) AddUser(u User) error {
	if u.ID == "" {
		return fmt.Errorf("almatest: user with no primary id")
	}
	if u.IDType == "" {
		u.IDType = "02"
	}
	if u.Group == "" {
		u.Group = "STUDENT"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.users[u.ID]; ok {
		r.u = u
		return nil
	}
	s.users[u.ID] = &userRec{u: u}
	s.userOrder = append(s.userOrder, u.ID)
	return nil
}

// AddItem adds or replaces an item. It fails if the barcode is empty.
func (s *Server) AddItem(it Item) error {
	if it.Barcode == "" {
		return fmt.Errorf("almatest: item with no barcode")
	}
	if it.Library == "" {
		it.Library = s.opts.Library
	}
	if it.Location == "" {
		it.Location = "STACKS"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if it.MMSID == "" {
		it.MMSID = "99" + s.newID(kindMMS)
	}
	if it.HoldingID == "" {
		it.HoldingID = "22" + s.newID(kindHolding)
	}
	if it.PID == "" {
		it.PID = "23" + s.newID(kindItem)
	}
	if old, ok := s.items[it.Barcode]; ok {
		it.ProcessType = old.ProcessType
		*old = it
		return nil
	}
	s.items[it.Barcode] = &it
	s.itemOrder = append(s.itemOrder, it.Barcode)
	return nil
}

// User returns the user with primary id id.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.users[id]
	if !ok {
		return User{}, false
	}
	return r.u, true
}

// Item returns the item with the barcode.
func (s *Server) Item(barcode string) (Item, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[barcode]
	if !ok {
		return Item{}, false
	}
	return *it, true
}

// Loan returns the loan with the id.
func (s *Server) Loan(id string) (Loan, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.loans[id]
	if !ok {
		return Loan{}, false
	}
	return *l, true
}

// Loans returns the user's loans, active and complete, oldest first.
func (s *Server) Loans(userID string) []Loan {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Loan
	for _, id := range s.loanOrder {
		if l := s.loans[id]; l.UserID == userID {
			out = append(out, *l)
		}
	}
	return out
}

// Blocks returns the user's blocks, active and inactive.
func (s *Server) Blocks(userID string) []Block {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.users[userID]
	if !ok {
		return nil
	}
	return slices.Clone(r.blocks)
}

// Fees returns copies of all of the user's fees, in every status, oldest
// first.
func (s *Server) Fees(userID string) []fees.Fee {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []fees.Fee
	for _, id := range s.feeOrder {
		if r := s.feeByID[id]; r.f.UserID == userID {
			out = append(out, r.f)
		}
	}
	return out
}

// AllFees returns copies of every fee, oldest first.
func (s *Server) AllFees() []fees.Fee {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]fees.Fee, 0, len(s.feeOrder))
	for _, id := range s.feeOrder {
		out = append(out, s.feeByID[id].f)
	}
	return out
}

// Fee returns a copy of the fee with the id.
func (s *Server) Fee(feeID string) (fees.Fee, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.feeByID[feeID]
	if !ok {
		return fees.Fee{}, false
	}
	return r.f, true
}

// FeeByTransactionID returns a copy of the fee with the bursar
// transaction id. When fees of different types share the id, it returns
// the first made; use [Server.FeeByChargeKey] to tell them apart.
func (s *Server) FeeByTransactionID(txnID string) (fees.Fee, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.feeByTxn[txnID]
	if len(rs) == 0 {
		return fees.Fee{}, false
	}
	return rs[0].f, true
}

// FeeByChargeKey returns a copy of the fee with the bursar transaction id
// and type: its charge key (see [fees.ChargeKey]).
func (s *Server) FeeByChargeKey(txnID string, typ fees.Type) (fees.Fee, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.feeByTxn[txnID] {
		if r.f.Type == typ {
			return r.f, true
		}
	}
	return fees.Fee{}, false
}

// Transactions returns the actions taken on the fee, oldest first.
func (s *Server) Transactions(feeID string) []Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.feeByID[feeID]
	if !ok {
		return nil
	}
	return slices.Clone(r.txns)
}
