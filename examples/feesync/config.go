package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/robfig/cron/v3"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// Config is the whole feesync configuration, read from one TOML file (see
// feesync.example.toml). Every key has a default except those that say
// where things are; [LoadConfig] fills the defaults in and validates.
//
// Secrets are never part of a Config: a key such as alma.api_key_env names
// the environment variable, or alma.api_key_file the file, that holds the
// secret, and [loadSecrets] reads it.
type Config struct {
	// Timezone is the IANA zone of the schedules and of dates in files
	// ("America/Los_Angeles"); the default is the machine's local zone.
	Timezone string `toml:"timezone"`
	// Currency of every amount; the default is USD.
	Currency string `toml:"currency"`
	// Journal is the path of the SQLite journal that makes the jobs
	// idempotent and crash-safe.
	Journal string `toml:"journal"`

	Alma       AlmaConfig       `toml:"alma"`
	Library    LibraryConfig    `toml:"library"`
	PeopleSoft PeopleSoftConfig `toml:"peoplesoft"`
	Layout     LayoutConfig     `toml:"layout"`
	// ItemTypes maps an Alma fee type (OVERDUEFINE) to its 12-digit
	// PeopleSoft item type. Types left out keep the reference code.
	ItemTypes map[string]string `toml:"item_types"`
	// Terms is the term calendar: a fee is charged to the term whose
	// dates hold the day it is exported. Empty: the built-in calendar.
	Terms []Term `toml:"terms"`
	// Seasons are terms that come back every year on the same days, looked
	// up after Terms.
	Seasons []Season `toml:"seasons"`
	// DueDays is how many days after the export a charge is due; the
	// default is 30.
	DueDays   int             `toml:"due_days"`
	Schedules SchedulesConfig `toml:"schedules"`
	Waive     WaiveConfig     `toml:"waive"`
	Report    ReportConfig    `toml:"report"`
	Webhook   WebhookConfig   `toml:"webhook"`
	Log       LogConfig       `toml:"log"`

	// path is the file the config was read from, for messages; lines
	// maps dotted keys to their line in it.
	path  string
	lines map[string]int
	loc   *time.Location
	cur   fees.Currency
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
}

// DropConfig is one file drop: a local folder or an FTP/FTPS server.
type DropConfig struct {
	// Type is "dir" (a local or mounted folder) or "ftp".
	Type string `toml:"type"`
	// Path is the folder of a "dir" drop.
	Path string `toml:"path"`
	// Address is host:port of an "ftp" drop.
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
	// MaxPaymentFileMiB is the largest payment file read, in MiB; a
	// larger one is refused with a clear error and moved to failed/. The
	// default is 512.
	MaxPaymentFileMiB int64 `toml:"max_payment_file_mib"`
}

// maxPaymentFileBytes is the payment file size limit in bytes.
func (c *Config) maxPaymentFileBytes() int64 { return c.PeopleSoft.MaxPaymentFileMiB << 20 }

// LayoutConfig names the PeopleSoft file layouts: "reference" for the
// built-in ones, or the path of a layout TOML file.
type LayoutConfig struct {
	Charges  string `toml:"charges"`
	Payments string `toml:"payments"`
}

// Term is one billing term of the calendar.
type Term struct {
	// Code is PeopleSoft's term code, such as "2263" or "2026FA".
	Code  string `toml:"code"`
	Start Date   `toml:"start"`
	End   Date   `toml:"end"` // inclusive
}

// Season is a term that comes back every year from Start to End
// (inclusive, both "MM-DD"); its code is a century digit, the year's last
// two digits and Suffix (Fall 2026 with suffix "8" is "2268").
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
}

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

// Default values.
const (
	DefaultChargesSchedule   = "30 18 * * *" // after Alma's 18:00 export
	DefaultPaymentsSchedule  = "5 * * * *"   // hourly, before Alma's hourly import
	DefaultCreditsSchedule   = "35 * * * *"  // hourly, after Alma's hourly credit export
	DefaultReportSchedule    = "0 7 * * *"   // every morning, before the desk opens
	DefaultReconcileSchedule = "30 6 * * *"  // before the report
	DefaultWebhookPath       = "/webhooks/alma"
	DefaultWaiveReason       = "LOST_ITEM_FOUND"
	DefaultWaiveComment      = "Lost item was found"
)

// The secrets' environment variables. Each may instead name a file in the
// variable of the same name with _FILE appended.
const (
	EnvAlmaAPIKey    = "FEEBRIDGE_ALMA_API_KEY"
	EnvFTPPassword   = "FEEBRIDGE_FTP_PASSWORD"
	EnvWebhookSecret = "FEEBRIDGE_WEBHOOK_SECRET"
)

// almaRegions are Alma's API regions.
var almaRegions = []string{"na", "eu", "ap", "ca", "cn"}

// ConfigError is a mistake in the config file: the file, the line when it
// is known, the dotted key and what is wrong.
type ConfigError struct {
	File string
	Line int
	Key  string
	Err  error
}

func (e *ConfigError) Error() string {
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

func (e *ConfigError) Unwrap() error { return e.Err }

// secretKeys are keys that would put a secret in the file itself.
var secretKeys = map[string]string{
	"api_key":  "api_key_env or api_key_file",
	"password": "password_env or password_file",
	"secret":   "secret_env or secret_file",
}

// LoadConfig reads, completes and validates the config file at path.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig decodes data, the content of the file named path, fills the
// defaults in and validates it. Errors are *ConfigError values that name
// the key and its line.
func ParseConfig(path string, data []byte) (*Config, error) {
	c := &Config{path: path, lines: keyLines(data)}
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &ConfigError{File: path, Line: pe.Position.Line, Key: pe.LastKey, Err: errors.New(pe.Message)}
		}
		return nil, &ConfigError{File: path, Err: err}
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
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// DefaultConfig returns the configuration used when no file is given:
// the reference layouts, item types and term calendar, default schedules.
// It names no drop, so only the convert commands can run with it.
func DefaultConfig() *Config {
	c := &Config{path: "(built-in defaults)"}
	c.setDefaults()
	if err := c.validateValues(); err != nil {
		panic(err) // the defaults are valid; a test checks it
	}
	return c
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
	for _, d := range []*DropConfig{&c.Library.DropConfig, &c.PeopleSoft.DropConfig} {
		if d.Type == "ftp" {
			def(&d.TLS, "explicit")
			def(&d.PasswordEnv, EnvFTPPassword)
			if d.Timeout == 0 {
				d.Timeout = Duration(time.Minute)
			}
		}
	}
	if !c.defined("due_days") {
		c.DueDays = 30
	}
	if c.PeopleSoft.MaxPaymentFileMiB == 0 {
		c.PeopleSoft.MaxPaymentFileMiB = 512
	}
	def(&c.Layout.Charges, "reference")
	def(&c.Layout.Payments, "reference")
	defCron := func(s *CronSpec, key, v string) {
		if !c.defined("schedules." + key) {
			*s = CronSpec(v)
		}
	}
	defCron(&c.Schedules.Charges, "charges", DefaultChargesSchedule)
	defCron(&c.Schedules.Payments, "payments", DefaultPaymentsSchedule)
	defCron(&c.Schedules.Credits, "credits", DefaultCreditsSchedule)
	defCron(&c.Schedules.Report, "report", DefaultReportSchedule)
	defCron(&c.Schedules.Reconcile, "reconcile", DefaultReconcileSchedule)
	def(&c.Waive.Reason, DefaultWaiveReason)
	def(&c.Waive.Comment, DefaultWaiveComment)
	if c.Waive.Types == nil {
		c.Waive.Types = []string{string(fees.TypeLostItemReplacementFee), string(fees.TypeLostItemProcessFee)}
	}
	def(&c.Webhook.Path, DefaultWebhookPath)
	def(&c.Webhook.SecretEnv, EnvWebhookSecret)
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "text")
}

// defined reports whether the file set key (so that an empty value is
// meant, not a default).
func (c *Config) defined(key string) bool {
	_, ok := c.lines[key]
	return ok
}

// errorf returns a *ConfigError for key, with its line when the file has it.
func (c *Config) errorf(key, format string, args ...any) error {
	return &ConfigError{File: c.path, Line: c.lines[key], Key: key, Err: fmt.Errorf(format, args...)}
}

// validate checks the values and that the drops the jobs need are there.
func (c *Config) validate() error {
	if n := c.PeopleSoft.MaxPaymentFileMiB; n < 0 || n > 1<<20 {
		return c.errorf("peoplesoft.max_payment_file_mib", "%d is not a size in MiB from 1 to 1048576", n)
	}
	if err := c.validateValues(); err != nil {
		return err
	}
	if c.Journal == "" {
		return c.errorf("journal", "missing: the path of the journal file")
	}
	for _, d := range []struct {
		key  string
		drop *DropConfig
	}{
		{"library", &c.Library.DropConfig},
		{"peoplesoft", &c.PeopleSoft.DropConfig},
	} {
		if d.drop.Type == "" {
			return c.errorf(d.key+".type", `missing: "dir" or "ftp"`)
		}
	}
	return nil
}

// validateValues checks every value that is set.
func (c *Config) validateValues() error {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return c.errorf("timezone", "unknown time zone %q", c.Timezone)
	}
	c.loc = loc
	cur, err := fees.ParseCurrency(c.Currency)
	if err != nil {
		return c.errorf("currency", "unknown currency %q", c.Currency)
	}
	c.cur = cur

	if !slices.Contains(almaRegions, c.Alma.Region) {
		return c.errorf("alma.region", "unknown region %q (want one of %s)", c.Alma.Region, strings.Join(almaRegions, ", "))
	}
	if c.Alma.BaseURL != "" && !strings.HasPrefix(c.Alma.BaseURL, "https://") && !strings.HasPrefix(c.Alma.BaseURL, "http://") {
		return c.errorf("alma.base_url", "%q is not an http(s) URL", c.Alma.BaseURL)
	}
	if c.Alma.RatePerSecond < 1 || c.Alma.RatePerSecond > 25 {
		return c.errorf("alma.rate_per_second", "%d is outside 1..25 (Alma refuses more than 25 calls a second)", c.Alma.RatePerSecond)
	}
	if c.Alma.Workers < 1 || c.Alma.Workers > 16 {
		return c.errorf("alma.workers", "%d is outside 1..16", c.Alma.Workers)
	}
	if err := c.checkSecretRef("alma.api_key", c.Alma.APIKeyEnv, c.Alma.APIKeyFile); err != nil {
		return err
	}
	if err := c.checkSecretRef("webhook.secret", c.Webhook.SecretEnv, c.Webhook.SecretFile); err != nil {
		return err
	}

	drops := []struct {
		key     string
		drop    *DropConfig
		folders map[string]string
	}{
		{"library", &c.Library.DropConfig, map[string]string{
			"export_folder": c.Library.ExportFolder, "credit_folder": c.Library.CreditFolder, "import_folder": c.Library.ImportFolder}},
		{"peoplesoft", &c.PeopleSoft.DropConfig, map[string]string{
			"inbound_folder": c.PeopleSoft.InboundFolder, "outbound_folder": c.PeopleSoft.OutboundFolder}},
		{"report", nil, map[string]string{"folder": c.Report.Folder}},
	}
	for _, d := range drops {
		if d.drop != nil {
			if err := c.checkDrop(d.key, d.drop); err != nil {
				return err
			}
		}
		for name, f := range d.folders {
			if f != "" && !validFolder(f) {
				return c.errorf(d.key+"."+name, "%q is not a relative folder (no leading /, no ..)", f)
			}
		}
	}

	for _, k := range []struct {
		key string
		val *string
	}{{"layout.charges", &c.Layout.Charges}, {"layout.payments", &c.Layout.Payments}} {
		if *k.val == "reference" {
			continue
		}
		if !filepath.IsAbs(*k.val) {
			*k.val = filepath.Join(filepath.Dir(c.path), *k.val)
		}
		if _, err := c.layout(k.key, *k.val, ""); err != nil {
			return err
		}
	}

	for typ, code := range c.ItemTypes {
		if !itemTypeRE.MatchString(code) {
			return c.errorf("item_types."+typ, "%q is not a 12-digit PeopleSoft item type", code)
		}
	}

	for i, t := range c.Terms {
		key := fmt.Sprintf("terms[%d]", i)
		if t.Code == "" {
			return c.errorf(key+".code", "missing")
		}
		if t.Start.IsZero() || t.End.IsZero() {
			return c.errorf(key, "term %s needs a start and an end date", t.Code)
		}
		if t.End.Before(t.Start.Time) {
			return c.errorf(key+".end", "term %s ends (%s) before it starts (%s)", t.Code, t.End, t.Start)
		}
		for j := range i {
			o := c.Terms[j]
			if !t.Start.After(o.End.Time) && !o.Start.After(t.End.Time) {
				return c.errorf(key, "term %s overlaps term %s", t.Code, o.Code)
			}
		}
	}

	if c.DueDays < 0 {
		return c.errorf("due_days", "%d must not be negative", c.DueDays)
	}
	for i, se := range c.Seasons {
		key := fmt.Sprintf("seasons[%d]", i)
		if se.Name == "" || se.Suffix == "" {
			return c.errorf(key, "a season needs a name and a suffix")
		}
		for _, d := range []struct{ k, v string }{{"start", se.Start}, {"end", se.End}} {
			if _, err := time.Parse("01-02", d.v); err != nil {
				return c.errorf(key+"."+d.k, "%q is not a day of the year (MM-DD)", d.v)
			}
		}
	}
	if err := c.calendar().Validate(); err != nil {
		return c.errorf("terms", "%v", err)
	}

	if c.Waive.Reason == "" {
		return c.errorf("waive.reason", "must not be empty: Alma requires a reason to waive")
	}
	for i, t := range c.Waive.Types {
		if t == "" {
			return c.errorf(fmt.Sprintf("waive.types[%d]", i), "empty fee type")
		}
	}

	if c.Webhook.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Webhook.Listen); err != nil {
			return c.errorf("webhook.listen", "%q is not host:port", c.Webhook.Listen)
		}
	}
	if !strings.HasPrefix(c.Webhook.Path, "/") {
		return c.errorf("webhook.path", "%q must start with /", c.Webhook.Path)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return c.errorf("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return c.errorf("log.format", `%q is not "text" or "json"`, c.Log.Format)
	}
	return nil
}

func (c *Config) checkSecretRef(key, env, file string) error {
	if env != "" && !envNameRE.MatchString(env) {
		return c.errorf(key+"_env", "%q is not an environment variable name (a secret is never written here, only the name of the variable that holds it)", env)
	}
	if c.defined(key+"_env") && file != "" {
		return c.errorf(key+"_file", "set %s_env or %s_file, not both", key, key)
	}
	return nil
}

func (c *Config) checkDrop(key string, d *DropConfig) error {
	switch d.Type {
	case "":
		if *d != (DropConfig{}) {
			return c.errorf(key+".type", `missing: "dir" or "ftp"`)
		}
	case "dir":
		if d.Path == "" {
			return c.errorf(key+".path", `missing: a "dir" drop needs the folder's path`)
		}
		if d.Address != "" || d.User != "" {
			return c.errorf(key+".address", `a "dir" drop takes a path, not an address or user`)
		}
	case "ftp":
		if _, _, err := net.SplitHostPort(d.Address); err != nil {
			return c.errorf(key+".address", "%q is not host:port", d.Address)
		}
		if d.User == "" {
			return c.errorf(key+".user", "missing: the FTP user")
		}
		switch d.TLS {
		case "explicit", "implicit", "none":
		default:
			return c.errorf(key+".tls", `%q is not "explicit", "implicit" or "none"`, d.TLS)
		}
		if err := c.checkSecretRef(key+".password", d.PasswordEnv, d.PasswordFile); err != nil {
			return err
		}
	default:
		return c.errorf(key+".type", `%q is not "dir" or "ftp"`, d.Type)
	}
	return nil
}

// Location is the zone of the schedules and dates.
func (c *Config) Location() *time.Location { return c.loc }

var (
	itemTypeRE = regexp.MustCompile(`^[0-9]{12}$`)
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	indexRE    = regexp.MustCompile(`\[[0-9]+\]`)
)

func validFolder(f string) bool {
	if strings.HasPrefix(f, "/") || strings.Contains(f, `\`) {
		return false
	}
	return !slices.Contains(strings.Split(f, "/"), "..")
}

// Date is a calendar day, written in TOML as a local date (2026-08-24) or
// a string ("2026-08-24").
type Date struct{ time.Time }

// UnmarshalText reads YYYY-MM-DD; a TOML date arrives here formatted as
// RFC 3339, of which the day is kept.
func (d *Date) UnmarshalText(b []byte) error {
	s := string(b)
	if len(s) > 10 && s[10] == 'T' {
		s = s[:10]
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("%q is not a date (YYYY-MM-DD)", b)
	}
	d.Time = t
	return nil
}

func (d Date) String() string { return d.Format(time.DateOnly) }

// Duration is a time.Duration written as "30s" or "2m".
type Duration time.Duration

// UnmarshalText parses a Go duration, which must be positive.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil || v <= 0 {
		return fmt.Errorf("%q is not a positive duration such as 30s or 2m", b)
	}
	*d = Duration(v)
	return nil
}

// CronSpec is a standard five-field cron spec, checked when read.
type CronSpec string

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// UnmarshalText checks the spec; an empty spec disables the job.
func (s *CronSpec) UnmarshalText(b []byte) error {
	if len(b) > 0 {
		if _, err := cronParser.Parse(string(b)); err != nil {
			return fmt.Errorf("%q is not a cron spec (minute hour day month weekday): %v", b, err)
		}
	}
	*s = CronSpec(b)
	return nil
}

// keyLines maps the dotted keys of a TOML file to the line where each is
// set, so that errors found after decoding can still name a line. It reads
// table headers and "key = value" lines, which is all a config file needs;
// keys in arrays of tables carry their index: terms[1].end.
func keyLines(data []byte) map[string]int {
	lines := make(map[string]int)
	prefix := ""
	arrays := make(map[string]int)
	inMulti := ""
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		s := strings.TrimSpace(line)
		if inMulti != "" {
			if strings.Contains(s, inMulti) {
				inMulti = ""
			}
			continue
		}
		switch {
		case s == "" || s[0] == '#':
			continue
		case strings.HasPrefix(s, "[["):
			end := strings.Index(s, "]]")
			if end < 0 {
				continue
			}
			name := tomlKey(s[2:end])
			idx := arrays[name]
			arrays[name] = idx + 1
			prefix = fmt.Sprintf("%s[%d]", name, idx)
			lines[prefix] = n
			if idx == 0 {
				lines[name] = n
			}
		case s[0] == '[':
			end := strings.Index(s, "]")
			if end < 0 {
				continue
			}
			prefix = tomlKey(s[1:end])
			lines[prefix] = n
		default:
			eq := strings.Index(s, "=")
			if eq <= 0 {
				continue
			}
			key := tomlKey(s[:eq])
			if key == "" {
				continue
			}
			if prefix != "" {
				key = prefix + "." + key
			}
			if _, seen := lines[key]; !seen {
				lines[key] = n
			}
			// The decoder names keys in arrays of tables without their
			// index (terms.start); keep the first such line too.
			if bare := indexRE.ReplaceAllString(key, ""); bare != key {
				if _, seen := lines[bare]; !seen {
					lines[bare] = n
				}
			}
			v := strings.TrimSpace(s[eq+1:])
			for _, q := range []string{`"""`, `'''`} {
				if strings.HasPrefix(v, q) && !strings.Contains(v[3:], q) {
					inMulti = q
				}
			}
		}
	}
	return lines
}

// tomlKey normalises a bare, quoted or dotted key: ` a . "b" ` is a.b.
func tomlKey(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		p = strings.Trim(p, `"'`)
		if p == "" || strings.ContainsAny(p, " \t=[]") {
			return ""
		}
		parts[i] = p
	}
	return strings.Join(parts, ".")
}

// calendar is the term calendar: the configured terms and seasons, or the
// built-in calendar when the file has neither.
func (c *Config) calendar() peoplesoft.Calendar {
	if len(c.Terms) == 0 && len(c.Seasons) == 0 {
		return peoplesoft.DefaultCalendar()
	}
	var cal peoplesoft.Calendar
	for _, t := range c.Terms {
		cal.Terms = append(cal.Terms, peoplesoft.Term{Code: t.Code, Start: t.Start.Time, End: t.End.Time})
	}
	for _, s := range c.Seasons {
		cal.Seasons = append(cal.Seasons, peoplesoft.Season{Name: s.Name, Start: s.Start, End: s.End, Suffix: s.Suffix})
	}
	return cal
}

// mapping is the reference mapping with the configured item types, term
// calendar and due days.
func (c *Config) mapping() peoplesoft.Mapping {
	mp := peoplesoft.DefaultMapping()
	for typ, code := range c.ItemTypes {
		mp.ItemTypes[fees.Type(typ)] = code
	}
	mp.Calendar = c.calendar()
	mp.DueDays = c.DueDays
	return mp
}

// feeTypes maps PeopleSoft item types back to Alma fee types, for the
// payment files Alma imports. An item type shared by several fee types
// maps to none of them.
func (c *Config) feeTypes() map[string]fees.Type {
	out := make(map[string]fees.Type)
	shared := make(map[string]bool)
	for typ, code := range c.mapping().ItemTypes {
		if typ == fees.TypeCredit {
			continue
		}
		if _, dup := out[code]; dup {
			shared[code] = true
		}
		out[code] = typ
	}
	for code := range shared {
		delete(out, code)
	}
	return out
}

// chargeLayout is the layout of the charge files feesync writes.
func (c *Config) chargeLayout() (*peoplesoft.Layout, error) {
	if c.Layout.Charges == "reference" {
		return peoplesoft.ReferenceChargeLayout(), nil
	}
	return c.layout("layout.charges", c.Layout.Charges, peoplesoft.KindCharges)
}

// paymentLayout is the layout of the payment files PeopleSoft sends.
func (c *Config) paymentLayout() (*peoplesoft.Layout, error) {
	if c.Layout.Payments == "reference" {
		return peoplesoft.ReferencePaymentLayout(), nil
	}
	return c.layout("layout.payments", c.Layout.Payments, peoplesoft.KindPayments)
}

// layout loads the layout file at path for key; kind, when set, is the
// kind it must describe (a key layout.charges takes a charges layout).
func (c *Config) layout(key, path, kind string) (*peoplesoft.Layout, error) {
	if kind == "" {
		kind = strings.TrimPrefix(key, "layout.")
	}
	if st, err := os.Stat(path); err != nil {
		return nil, c.errorf(key, "layout file: %v", err)
	} else if !st.Mode().IsRegular() {
		return nil, c.errorf(key, "layout file %s is not a regular file", path)
	}
	l, err := peoplesoft.LoadLayoutFile(path)
	if err != nil {
		return nil, c.errorf(key, "%v", err)
	}
	if l.Kind != kind {
		return nil, c.errorf(key, "%s describes a %s file, not %s", path, l.Kind, kind)
	}
	return l, nil
}

func (d Duration) d() time.Duration { return time.Duration(d) }
