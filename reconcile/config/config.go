package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// Config is the whole configuration of a feebridge deployment, read from
// one TOML file (see examples/feesync/feesync.example.toml) or built in
// code. Every key has a default except those that say where things are;
// [Load] and [Parse] fill the defaults in and validate, and a Config built
// in code starts from [Default].
//
// Secrets are never part of a Config: a key such as alma.api_key_env names
// the environment variable, or alma.api_key_file the file, that holds the
// secret, and [SecretRef.Load] reads it.
type Config struct {
	// Timezone is the IANA zone of the schedules and of dates in files
	// ("America/Los_Angeles"); the default is the machine's local zone.
	Timezone string `toml:"timezone"`
	// Currency of every amount; the default is USD.
	Currency string `toml:"currency"`
	// Journal is the path of the SQLite journal that makes the jobs
	// idempotent and crash-safe, or the DSN of a PostgreSQL journal
	// (postgres://user@host:5432/database?schema=college), its password
	// from FEEBRIDGE_JOURNAL_PASSWORD or FEEBRIDGE_JOURNAL_PASSWORD_FILE,
	// never from the config file. In a file, a relative path is relative
	// to the folder of the config file.
	Journal string `toml:"journal"`
	// JournalDSNFile names a file whose first line is the PostgreSQL
	// journal's whole DSN, password included (a file only its service
	// reads), instead of journal.
	JournalDSNFile string `toml:"journal_dsn_file"`

	Alma       AlmaConfig       `toml:"alma"`
	Library    LibraryConfig    `toml:"library"`
	PeopleSoft PeopleSoftConfig `toml:"peoplesoft"`
	// Bursar is the student system the charges go to and the payments
	// come from: "peoplesoft" (the default), "banner" (Ellucian Banner)
	// or "colleague" (Ellucian Colleague). It chooses the built-in
	// layouts (layout "reference"), the item types of the fee types left
	// out of ItemTypes, what an item type looks like, and the term
	// calendar when the file has none (peoplesoft.BuiltinBursar).
	Bursar string       `toml:"bursar"`
	Layout LayoutConfig `toml:"layout"`
	// ItemTypes maps an Alma fee type (OVERDUEFINE) to the bursar's code
	// for it: a 12-digit PeopleSoft item type, a Banner detail code, a
	// Colleague AR code. Types left out keep the bursar's built-in code.
	ItemTypes map[string]string `toml:"item_types"`
	// RefundItemTypes maps an Alma fee type to the 12-digit PeopleSoft
	// item type of its refund lines (R8). Types left out keep the
	// reference code (LOSTITEMREPLACEMENTFEE and LOSTITEMPROCESSFEE have
	// one).
	RefundItemTypes map[string]string `toml:"refund_item_types"`
	// Refunds is the refund policy by Alma fee type (R8): what happens
	// when Alma refunds a paid fee of that type (a lost item paid for,
	// then returned). A type left out is "report".
	Refunds map[string]RefundConfig `toml:"refunds"`
	// ItemTypePattern is what a code in ItemTypes must look like, a
	// regular expression matched against the whole code. Empty: the
	// bursar's own (PeopleSoft's 12 digits, Banner's "[A-Z0-9]{4}").
	ItemTypePattern string `toml:"item_type_pattern"`
	// Terms is the term calendar: a fee is charged to the term whose
	// dates hold the day it is exported. Empty: the built-in calendar.
	Terms []Term `toml:"terms"`
	// Seasons are terms that come back every year on the same days, looked
	// up after Terms.
	Seasons []Season `toml:"seasons"`
	// TermCodeFormat spells the seasons' term codes from the year and
	// their suffix ({C}, {YYYY}, {YY}, {SUFFIX}; see
	// peoplesoft.Calendar.CodeFormat). Empty: the bursar's own
	// (PeopleSoft's "{C}{YY}{SUFFIX}", Banner's "{YYYY}{SUFFIX}",
	// Colleague's "{YY}/{SUFFIX}").
	TermCodeFormat string `toml:"term_code_format"`
	// DueDays is how many days after the export a charge is due; the
	// default is 30.
	DueDays int `toml:"due_days"`
	// Colleges route each library's fees to its college in a district
	// whose colleges share one PeopleSoft (see [College]). Empty: every
	// charge goes out with the mapping above and no business unit.
	Colleges  []College       `toml:"colleges"`
	Schedules SchedulesConfig `toml:"schedules"`
	Waive     WaiveConfig     `toml:"waive"`
	Report    ReportConfig    `toml:"report"`
	Webhook   WebhookConfig   `toml:"webhook"`
	Log       LogConfig       `toml:"log"`
	// Mail, when the file has a [mail] section, mails the daily report
	// and the alerts (see [MailConfig]); nil sends no mail.
	Mail *MailConfig `toml:"mail"`
	// ExpectFilesWithin says how long each inbound folder may go without
	// a new file before the run warns and the daily report lists it.
	ExpectFilesWithin ExpectConfig `toml:"expect_files_within"`
	// ExportPolicy, when the file has an [export_policy] section, is what
	// the district means Alma's bursar profile to export, for
	// `feesync lint-export` (see [ExportPolicyConfig]).
	ExportPolicy *ExportPolicyConfig `toml:"export_policy"`

	// path is the file the config was read from, for messages; lines
	// maps dotted keys to their line in it.
	path  string
	lines map[string]int
	loc   *time.Location
	cur   fees.Currency

	almaLoc *time.Location    // Alma.TimeZone, or loc
	reserve reconcile.Reserve // Alma.DailyReserve
}

// AlmaConfig says how to reach Alma's REST API.
type AlmaConfig struct {
	// Region is Alma's API region: na, eu, ap, ca or cn.
	Region string `toml:"region"`
	// BaseURL, when set, replaces the region's address (a test system or
	// a proxy). It ends before /almaws/v1.
	BaseURL string `toml:"base_url"`
	// APIKeyEnv names the environment variable holding the API key; the
	// default is FEEBRIDGE_ALMA_API_KEY (or FEEBRIDGE_ALMA_API_KEY_FILE
	// naming a file).
	APIKeyEnv string `toml:"api_key_env"`
	// APIKeyFile names a file holding the API key.
	APIKeyFile string `toml:"api_key_file"`
	// RatePerSecond bounds the API calls; Alma refuses more than 25/s.
	RatePerSecond int `toml:"rate_per_second"`
	// Workers is how many students the reconciliation and the report ask
	// Alma about at once, within RatePerSecond.
	Workers int `toml:"workers"`
	// Timeout of one API call.
	Timeout Duration `toml:"timeout"`
	// ExportJob and CreditExportJob name Alma's export to bursar and its
	// export of credits, by job name (as Alma's Monitor Jobs shows it,
	// without regard to case) or job id: their JOB_END webhook starts the
	// charges and the credits job at once, and their counts are checked
	// against the file (see jobend.go). Empty: the schedule alone.
	ExportJob       string `toml:"export_job"`
	CreditExportJob string `toml:"credit_export_job"`
	// DailyReserve is how many of the institution's daily API calls are
	// kept for the work that cannot wait (lost returns): a number of
	// calls (2000) or a percentage of the last full day's quota seen
	// ("5%", the default). Below it, the reconciliation's detail calls
	// and the report's checks wait for the next day.
	DailyReserve ReserveSpec `toml:"daily_reserve"`
	// TimeZone is Alma's IANA time zone, where its daily quota starts
	// again at midnight; the default is Timezone.
	TimeZone string `toml:"time_zone"`
	// FeesReport is the path of the open fees Analytics report ("Fines
	// and Fees" subject area, the columns of alma.FeesReportColumns),
	// such as "/shared/Our College/Reports/feebridge open fees". Set, the
	// nightly reconciliation reads it in bulk and asks Alma about a
	// student only when the report and the journal disagree or the
	// journal changed after the report's data was refreshed, and the
	// daily report finds returned lost items in it. Empty (the default):
	// the reconciliation asks about each active student.
	FeesReport string `toml:"fees_report"`
}

// DropConfig is one file drop: a local folder, an FTP/FTPS server or an
// SFTP server.
type DropConfig struct {
	// Type is "dir" (a local or mounted folder), "ftp" or "sftp".
	Type string `toml:"type"`
	// Path is the folder of a "dir" drop.
	Path string `toml:"path"`
	// Address is host:port of an "ftp" or "sftp" drop (an "sftp" one may
	// give the host alone, for SSH's port 22).
	Address string `toml:"address"`
	// User logs in to the FTP server.
	User string `toml:"user"`
	// Root is the server folder that is the drop's root; relative to the
	// login folder, which is the default.
	Root string `toml:"root"`
	// TLS is "explicit" (FTPS with AUTH TLS, the default), "implicit"
	// (FTPS on a TLS port) or "none" (plain FTP: the password crosses the
	// network in clear; feesync warns).
	TLS string `toml:"tls"`
	// PasswordEnv names the environment variable holding the FTP password;
	// the default is FEEBRIDGE_FTP_PASSWORD (or FEEBRIDGE_FTP_PASSWORD_FILE).
	PasswordEnv string `toml:"password_env"`
	// PasswordFile names a file holding the FTP password.
	PasswordFile string `toml:"password_file"`
	// Timeout of one FTP operation.
	Timeout Duration `toml:"timeout"`
	// Settle is how long a file of this drop's inbound folders (the
	// library's exports and credits, PeopleSoft's payments) must show the
	// same size and modification time before a job claims it: the sender
	// has stopped writing it. The default is "1m"; "0s" claims a file as
	// soon as it is listed (for a sender that writes each file under a
	// hidden name and renames it when complete). See the README, "What a
	// sender must do for a file to be claimed".
	Settle Wait `toml:"settle"`
	// DoneMarker, when set (such as ".done"), makes a job claim file X of
	// this drop's inbound folders only once X.done exists beside it: for
	// a sender that writes such a marker when it has finished. Marker
	// files are never read as data; a marker is removed once its file is
	// claimed.
	DoneMarker string `toml:"done_marker"`
	// SFTPConfig holds the keys of an "sftp" drop: the host key to
	// verify and the private key that logs in.
	SFTPConfig
}

// LibraryConfig is the library's drop, where Alma writes its bursar
// exports and reads the payment files feesync writes.
type LibraryConfig struct {
	DropConfig
	// ExportFolder holds Alma's "Export to Bursar" files of fees (F2);
	// the default is "exports".
	ExportFolder string `toml:"export_folder"`
	// CreditFolder holds Alma's exports of credits and waivers (F4); the
	// default is "credits".
	CreditFolder string `toml:"credit_folder"`
	// ImportFolder is where Alma's bursar import job picks up payments
	// (F3); the default is "imports".
	ImportFolder string `toml:"import_folder"`
	// ImportTakenFolder is where Alma's import moves the payment files it
	// took, under the same name, if it moves them; empty (the default)
	// when it leaves or deletes them. With it, a rerun after a crash
	// between an upload and its journal entry finds a file already taken
	// and does not send it again (README, "Exactly once, drop by drop").
	ImportTakenFolder string `toml:"import_taken_folder"`
}

// PeopleSoftConfig is the district's drop for PeopleSoft: a folder where
// feesync delivers charge files and one where PeopleSoft leaves payments.
type PeopleSoftConfig struct {
	DropConfig
	// InboundFolder is where feesync delivers charge and credit files for
	// PeopleSoft's External File Load; the default is "inbound".
	InboundFolder string `toml:"inbound_folder"`
	// OutboundFolder is where PeopleSoft leaves its payment files; the
	// default is "outbound".
	OutboundFolder string `toml:"outbound_folder"`
	// InboundTakenFolder is where PeopleSoft moves the charge and credit
	// files it loaded, under the same name (a loaded/ folder), if it
	// moves them; see LibraryConfig.ImportTakenFolder.
	InboundTakenFolder string `toml:"inbound_taken_folder"`
	// ResultsFolder is where PeopleSoft's load leaves its results, line by
	// line, of each charge file it loaded (what it posted, what it refused
	// and why); the results job reads them. Empty (the default): the
	// results are not read, and a refusal shows only when a
	// reconciliation disagrees. It must be a folder of its own: the
	// payments job claims every file of the outbound folder.
	ResultsFolder string `toml:"results_folder"`
	// MaxPaymentFileMiB is the largest payment file read, in MiB; a
	// larger one is refused with a clear error and moved to failed/. The
	// default is 512.
	MaxPaymentFileMiB int64 `toml:"max_payment_file_mib"`
	// SeparateFiles, with [[colleges]], delivers one charge (and credit)
	// file per college of an input, each with its own control totals and
	// its business unit in its name; off (default), one file holds every
	// college's lines.
	SeparateFiles bool `toml:"separate_files"`
}

// MaxPaymentFileBytes is the payment file size limit in bytes.
func (c *Config) MaxPaymentFileBytes() int64 { return c.PeopleSoft.MaxPaymentFileMiB << 20 }

// LayoutConfig names the bursar's file layouts: "reference" for the
// built-in ones of the configured bursar, the name of a built-in bursar
// ("peoplesoft", "banner", "colleague") for its layout, or the path of a
// layout TOML file.
type LayoutConfig struct {
	Charges  string `toml:"charges"`
	Payments string `toml:"payments"`
	// Results is the layout of the load's results files, read from
	// peoplesoft.results_folder.
	Results string `toml:"results"`
}

// Term is one billing term of the calendar.
type Term struct {
	// Code is PeopleSoft's term code, such as "2263" or "2026FA".
	Code  string `toml:"code"`
	Start Date   `toml:"start"`
	End   Date   `toml:"end"` // inclusive
}

// Season is a term that comes back every year from Start to End
// (inclusive, both "MM-DD"); its code is spelled by TermCodeFormat, by
// default a century digit, the year's last two digits and Suffix (Fall
// 2026 with suffix "8" is "2268").
type Season struct {
	Name   string `toml:"name"`
	Start  string `toml:"start"`
	End    string `toml:"end"`
	Suffix string `toml:"suffix"`
}

// SchedulesConfig holds the cron specs of the jobs (five fields: minute
// hour day-of-month month day-of-week, in Config.Timezone). An empty spec
// disables the job under `feesync serve`.
type SchedulesConfig struct {
	Charges   CronSpec `toml:"charges"`
	Payments  CronSpec `toml:"payments"`
	Credits   CronSpec `toml:"credits"`
	Report    CronSpec `toml:"report"`
	Reconcile CronSpec `toml:"reconcile"`
	// Results runs the results job, when peoplesoft.results_folder is
	// set.
	Results CronSpec `toml:"results"`
}

// RefundConfig is the refund policy of one fee type (R8).
type RefundConfig struct {
	// Policy is "refund" (send the refund to PeopleSoft as a refund line)
	// or "report" (hold it for staff; the daily report lists it with the
	// amounts). The default is "report": money never goes back silently.
	Policy string `toml:"policy"`
	// Ratio is the percentage of what the student paid that may go back,
	// as the "Lost item replacement fee refund ratio" of Alma's terms of
	// use gives it: 0 to 100, default 100. A refund from Alma above it is
	// held.
	Ratio *int `toml:"ratio"`
}

// The refund policies.
const (
	RefundPolicyRefund = "refund"
	RefundPolicyReport = "report"
)

// WaiveConfig is how the lost-returns handler waives fees (R7).
type WaiveConfig struct {
	// Reason is Alma's waive reason code used when a lost item comes back.
	Reason string `toml:"reason"`
	// Comment goes with each such waiver.
	Comment string `toml:"comment"`
	// Types are the fee types waived when a lost item comes back.
	Types []string `toml:"types"`
}

// ReportConfig says where the daily exceptions report goes.
type ReportConfig struct {
	// Folder on the library drop where the report files are written; the
	// default is "reports".
	Folder string `toml:"folder"`
}

// WebhookConfig is the listener for Alma's webhooks (F5).
type WebhookConfig struct {
	// Listen is the address of `feesync serve` (webhook, /healthz and the
	// status page), such as "127.0.0.1:8080".
	Listen string `toml:"listen"`
	// Path of the webhook endpoint; the default is /webhooks/alma.
	Path string `toml:"path"`
	// SecretEnv names the environment variable holding the webhook
	// secret; the default is FEEBRIDGE_WEBHOOK_SECRET (or
	// FEEBRIDGE_WEBHOOK_SECRET_FILE).
	SecretEnv string `toml:"secret_env"`
	// SecretFile names a file holding the webhook secret.
	SecretFile string `toml:"secret_file"`
	// StatusTokenEnv names the environment variable holding the token
	// that the status page, its search and /metrics require (as
	// "Authorization: Bearer TOKEN" or "?token=TOKEN"); the default is
	// FEEBRIDGE_STATUS_TOKEN (or FEEBRIDGE_STATUS_TOKEN_FILE). When no
	// token is set, they are open to whoever reaches the listener.
	StatusTokenEnv string `toml:"status_token_env"`
	// StatusTokenFile names a file holding the status token.
	StatusTokenFile string `toml:"status_token_file"`
}

// ExpectConfig is, per job that reads an inbound folder, how long the
// folder may go without a new file (counted from the newest file the
// journal saw, or from the job's first run with this set when it saw
// none) before each run logs a warning and the daily report lists the
// folder. Unset (the default) watches nothing: "26h" suits Alma's daily
// export.
type ExpectConfig struct {
	// Charges watches library.export_folder (Alma's fee exports).
	Charges OffDuration `toml:"charges"`
	// Credits watches library.credit_folder.
	Credits OffDuration `toml:"credits"`
	// Payments watches peoplesoft.outbound_folder.
	Payments OffDuration `toml:"payments"`
}

// LogConfig is how feesync logs.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `toml:"level"`
	// Format is "text" or "json".
	Format string `toml:"format"`
	// ShowStudentIDs turns off the masking of student ids in logs.
	ShowStudentIDs bool `toml:"show_student_ids"`
}

// The default schedules of the jobs, in the config's time zone. A
// simulation that runs the jobs on a clock of its own uses them too.
const (
	ChargesSchedule   = "30 18 * * *" // daily at 18:30, after Alma's 18:00 export
	PaymentsSchedule  = "5 * * * *"   // hourly at :05, before Alma's hourly import
	ResultsSchedule   = "35 * * * *"  // hourly at :35, when peoplesoft.results_folder is set
	CreditsSchedule   = "35 * * * *"  // hourly at :35, after Alma's hourly credit export
	ReconcileSchedule = "30 6 * * *"  // daily at 06:30, before the report
	ReportSchedule    = "0 7 * * *"   // daily at 07:00, before the desk opens
)

// DefaultSchedules returns the schedules a config gets when its file
// names none.
func DefaultSchedules() SchedulesConfig {
	return SchedulesConfig{Charges: ChargesSchedule, Payments: PaymentsSchedule, Credits: CreditsSchedule,
		Reconcile: ReconcileSchedule, Report: ReportSchedule}
}

// Other default values.
const (
	// DefaultSettle is how long a file must stay unchanged before a job
	// claims it, unless a drop's settle says otherwise.
	DefaultSettle       = Wait(time.Minute)
	DefaultWebhookPath  = "/webhooks/alma"
	DefaultWaiveReason  = "LOST_ITEM_FOUND"
	DefaultWaiveComment = "Lost item was found"
)

// Error is a mistake in a config: the file, the line when it is known,
// the dotted key and what is wrong.
type Error struct {
	File string
	Line int
	Key  string
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// secretKeys are keys that would put a secret in the file itself.
var secretKeys = map[string]string{
	"api_key":        "api_key_env or api_key_file",
	"password":       "password_env or password_file",
	"secret":         "secret_env or secret_file",
	"key":            "key_file or key_env",
	"private_key":    "key_file or key_env",
	"key_passphrase": "key_passphrase_env or key_passphrase_file",
}

// Load reads, completes and validates the config file at path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse decodes the TOML text r, the content of the file named name, fills
// the defaults in and validates it. Errors are *[Error] values that name
// the file, the line and the key. Relative paths in the file (the journal,
// layout files) are taken relative to the folder of name.
func Parse(r io.Reader, name string) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	c := &Config{path: name, lines: keyLines(data)}
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: name, Line: pe.Position.Line, Key: pe.LastKey, Err: errors.New(pe.Message)}
		}
		return nil, decodeError(name, err)
	}
	for _, k := range md.Undecoded() {
		key := k.String()
		last := k[len(k)-1]
		if use, ok := secretKeys[last]; ok {
			return nil, c.errorf(key, "secrets are never written in the config file: use %s", use)
		}
		return nil, c.errorf(key, "unknown key")
	}
	c.setDefaults()
	c.resolvePaths()
	if err := c.readJournalDSN(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// typeErrorRE matches the TOML decoder's error for a value of the wrong
// type, which it gives as text: `toml: line 9 (last key "a.b"): …`.
var typeErrorRE = regexp.MustCompile(`^toml: line ([0-9]+) \(last key "([^"]*)"\): (.*)$`)

// decodeError is the *Error for a decoding error of file name, with the
// line and key when the decoder's text gives them.
func decodeError(name string, err error) error {
	m := typeErrorRE.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{File: name, Err: err}
	}
	line, _ := strconv.Atoi(m[1])
	return &Error{File: name, Line: line, Key: m[2], Err: errors.New(m[3])}
}

// Default returns the configuration used when no file is given: the
// reference layouts, item types and term calendar, default schedules,
// UTC. It names no journal and no drop: a program that builds its config
// in code starts from it and sets those ([Open] then needs them, or drops
// of its own in [Options]).
func Default() *Config {
	c := &Config{path: "(built-in defaults)"}
	c.setDefaults()
	if err := c.checkValues(); err != nil {
		panic(err) // the defaults are valid; a test checks it
	}
	return c
}

// Path is the file the config was read from, or a description of where
// it came from.
func (c *Config) Path() string { return c.path }

// resolvePaths makes the relative paths of a file (the journal and the
// layout files) relative to the file's folder.
func (c *Config) resolvePaths() {
	dir := filepath.Dir(c.path)
	if c.Journal != "" && !filepath.IsAbs(c.Journal) && !journal.IsPostgres(c.Journal) {
		c.Journal = filepath.Join(dir, c.Journal)
	}
	if c.JournalDSNFile != "" && !filepath.IsAbs(c.JournalDSNFile) {
		c.JournalDSNFile = filepath.Join(dir, c.JournalDSNFile)
	}
	if c.Mail != nil && c.Mail.CAFile != "" && !filepath.IsAbs(c.Mail.CAFile) {
		c.Mail.CAFile = filepath.Join(dir, c.Mail.CAFile)
	}
	c.resolveSFTPPaths(dir)
	for _, p := range []*string{&c.Layout.Charges, &c.Layout.Payments, &c.Layout.Results} {
		if !builtinLayoutName(*p) && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

func (c *Config) setDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Currency, string(fees.USD))
	def(&c.Alma.Region, "na")
	def(&c.Alma.APIKeyEnv, EnvAlmaAPIKey)
	if c.Alma.RatePerSecond == 0 {
		c.Alma.RatePerSecond = 20
	}
	if c.Alma.Workers == 0 {
		c.Alma.Workers = 4
	}
	if c.Alma.Timeout == 0 {
		c.Alma.Timeout = Duration(30 * time.Second)
	}
	for key, d := range map[string]*DropConfig{"library": &c.Library.DropConfig, "peoplesoft": &c.PeopleSoft.DropConfig} {
		if !c.defined(key + ".settle") {
			d.Settle = DefaultSettle
		}
		if d.Type == "ftp" {
			def(&d.TLS, "explicit")
			def(&d.PasswordEnv, EnvFTPPassword)
			if d.Timeout == 0 {
				d.Timeout = Duration(time.Minute)
			}
		}
		setSFTPDefaults(d)
	}
	if !c.defined("due_days") {
		c.DueDays = 30
	}
	if c.PeopleSoft.MaxPaymentFileMiB == 0 {
		c.PeopleSoft.MaxPaymentFileMiB = 512
	}
	def(&c.Bursar, peoplesoft.BursarPeopleSoft)
	def(&c.Layout.Charges, "reference")
	def(&c.Layout.Payments, "reference")
	def(&c.Layout.Results, "reference")
	defCron := func(s *CronSpec, key, v string) {
		if !c.defined("schedules." + key) {
			*s = CronSpec(v)
		}
	}
	defCron(&c.Schedules.Charges, "charges", ChargesSchedule)
	defCron(&c.Schedules.Payments, "payments", PaymentsSchedule)
	defCron(&c.Schedules.Credits, "credits", CreditsSchedule)
	defCron(&c.Schedules.Report, "report", ReportSchedule)
	defCron(&c.Schedules.Reconcile, "reconcile", ReconcileSchedule)
	if c.PeopleSoft.ResultsFolder != "" {
		defCron(&c.Schedules.Results, "results", ResultsSchedule)
	}
	def(&c.Waive.Reason, DefaultWaiveReason)
	def(&c.Waive.Comment, DefaultWaiveComment)
	if c.Waive.Types == nil {
		c.Waive.Types = []string{string(fees.TypeLostItemReplacementFee), string(fees.TypeLostItemProcessFee)}
	}
	def(&c.Webhook.Path, DefaultWebhookPath)
	def(&c.Webhook.SecretEnv, EnvWebhookSecret)
	def(&c.Webhook.StatusTokenEnv, EnvStatusToken)
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "text")
	c.setMailDefaults()
}

// defined reports whether the file set key (so that an empty value is
// meant, not a default).
func (c *Config) defined(key string) bool {
	_, ok := c.lines[key]
	return ok
}

// errorf returns an *Error for key, with its line when the file has it.
func (c *Config) errorf(key, format string, args ...any) error {
	return &Error{File: c.path, Line: c.lineOf(key), Key: key, Err: fmt.Errorf(format, args...)}
}

// lineOf is the line of key; for a key in an array, the line of the
// nearest key that holds it when the file wrote it inline
// (colleges[1].terms[0] is on the line of colleges[1].terms); 0 when the
// file has none.
func (c *Config) lineOf(key string) int {
	if !strings.Contains(key, "[") {
		return c.lines[key]
	}
	for key != "" {
		if n, ok := c.lines[key]; ok {
			return n
		}
		cut := strings.LastIndexAny(key, ".[")
		if cut < 0 {
			break
		}
		key = key[:cut]
	}
	return 0
}

// Location is the zone of the schedules and dates; it is set when the
// config is validated.
func (c *Config) Location() *time.Location { return c.loc }

// FeeCurrency is the currency of every amount; it is set when the config
// is validated.
func (c *Config) FeeCurrency() fees.Currency { return c.cur }
