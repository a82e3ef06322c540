package config

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// Validate checks every value of the config and that it names what the
// jobs need: a journal and both drops. It returns an *[Error] naming the
// first mistake. [Load] and [Parse] call it; a program that builds or
// changes a Config in code calls it before [Open], which calls it too.
func (c *Config) Validate() error {
	if err := c.checkValues(); err != nil {
		return err
	}
	return c.checkComplete(false, false)
}

// checkComplete checks that the config names a journal and the drops that
// are not given otherwise (library, bursar: given by the caller).
func (c *Config) checkComplete(library, bursar bool) error {
	if c.Journal == "" {
		return c.errorf("journal", "missing: the path of the journal file")
	}
	for _, d := range []struct {
		key   string
		drop  *DropConfig
		given bool
	}{
		{"library", &c.Library.DropConfig, library},
		{"peoplesoft", &c.PeopleSoft.DropConfig, bursar},
	} {
		if d.drop.Type == "" && !d.given {
			return c.errorf(d.key+".type", `missing: "dir", "ftp" or "sftp"`)
		}
	}
	return nil
}

// checkValues checks every value that is set, section by section, and
// sets the parsed zone and currency.
// It reports every section's first mistake, not only the first section's.
func (c *Config) checkValues() error {
	var errs []error
	for _, check := range []func() error{
		c.checkZoneAndCurrency, // first: the checks after it need the zone and currency
		c.checkPaymentFileSize,
		c.checkAlma,
		c.checkAlmaQuota,
		c.checkDrops,
		c.checkBursar,
		c.checkLayouts,
		c.checkItemTypes,
		c.checkRefunds,
		c.checkTermsAndSeasons,
		c.checkColleges,
		c.checkWaive,
		c.checkWebhook,
		c.checkServe,
		c.checkLog,
		c.checkExpect,
		c.checkMail,
		c.checkExportPolicy,
	} {
		if err := check(); err != nil {
			errs = append(errs, err)
		}
		if len(errs) > 0 && c.cur == "" {
			break // the zone or currency is wrong: the other checks need them
		}
	}
	return errors.Join(errs...)
}

// checkTermsAndSeasons checks the seasons only when the terms are right:
// the seasons' check reads the terms again and would repeat their mistake.
func (c *Config) checkTermsAndSeasons() error {
	if err := c.checkTerms(); err != nil {
		return err
	}
	return c.checkSeasons()
}

func (c *Config) checkPaymentFileSize() error {
	if n := c.PeopleSoft.MaxPaymentFileMiB; n < 0 || n > 1<<20 {
		return c.errorf("peoplesoft.max_payment_file_mib", "%d is not a size in MiB from 1 to 1048576", n)
	}
	return nil
}

func (c *Config) checkZoneAndCurrency() error {
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
	return nil
}

// almaRegions are Alma's API regions.
var almaRegions = []string{"na", "eu", "ap", "ca", "cn"}

func (c *Config) checkAlma() error {
	a := c.Alma
	if !slices.Contains(almaRegions, a.Region) {
		return c.errorf("alma.region", "unknown region %q (want one of %s)", a.Region, strings.Join(almaRegions, ", "))
	}
	if a.BaseURL != "" && !strings.HasPrefix(a.BaseURL, "https://") && !strings.HasPrefix(a.BaseURL, "http://") {
		return c.errorf("alma.base_url", "%q is not an http(s) URL", a.BaseURL)
	}
	if a.RatePerSecond < 1 || a.RatePerSecond > 25 {
		return c.errorf("alma.rate_per_second", "%d is outside 1..25 (Alma refuses more than 25 calls a second)", a.RatePerSecond)
	}
	if a.Workers < 1 || a.Workers > 16 {
		return c.errorf("alma.workers", "%d is outside 1..16", a.Workers)
	}
	if a.FeesReport != "" && !strings.HasPrefix(a.FeesReport, "/") {
		return c.errorf("alma.fees_report", "%q is not an Analytics report path (it starts with /shared/…)", a.FeesReport)
	}
	if err := c.checkSecretRef("alma.api_key", a.APIKeyEnv, a.APIKeyFile); err != nil {
		return err
	}
	if err := c.checkJobEnd(); err != nil {
		return err
	}
	return c.checkSecretRef("webhook.secret", c.Webhook.SecretEnv, c.Webhook.SecretFile)
}

// checkDrops checks the two drops and the folders named on them.
func (c *Config) checkDrops() error {
	drops := []struct {
		key     string
		drop    *DropConfig
		folders map[string]string
	}{
		{"library", &c.Library.DropConfig, map[string]string{
			"export_folder": c.Library.ExportFolder, "credit_folder": c.Library.CreditFolder, "import_folder": c.Library.ImportFolder,
			"import_taken_folder": c.Library.ImportTakenFolder}},
		{"peoplesoft", &c.PeopleSoft.DropConfig, map[string]string{
			"inbound_folder": c.PeopleSoft.InboundFolder, "outbound_folder": c.PeopleSoft.OutboundFolder,
			"inbound_taken_folder": c.PeopleSoft.InboundTakenFolder, "results_folder": c.PeopleSoft.ResultsFolder}},
		{"report", nil, map[string]string{"folder": c.Report.Folder}},
	}
	var errs []error // every drop's mistakes, then the folders'
	for _, d := range drops {
		if d.drop != nil {
			errs = append(errs, c.checkDrop(d.key, d.drop))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, d := range drops {
		for name, f := range d.folders {
			if f != "" && !validFolder(f) {
				return c.errorf(d.key+"."+name, "%q is not a relative folder (no leading /, no ..)", f)
			}
		}
	}
	return nil
}

func (c *Config) checkDrop(key string, d *DropConfig) error {
	if err := c.checkClaim(key, d); err != nil {
		return err
	}
	rest := *d // the claim rule has a default even for a drop given in code
	rest.Settle, rest.DoneMarker = 0, ""
	switch d.Type {
	case "":
		if rest != (DropConfig{}) {
			return c.errorf(key+".type", `missing: "dir", "ftp" or "sftp"`)
		}
	case "dir":
		if d.Path == "" {
			return c.errorf(key+".path", `missing: a "dir" drop needs the folder's path`)
		}
		if d.Address != "" || d.User != "" || sftpKeySet(d) != "" {
			return c.errorf(key+".address", `a "dir" drop takes a path, not an address, user or key`)
		}
	case "ftp":
		if k := sftpKeySet(d); k != "" {
			return c.errorf(key+"."+k, `is a key of an "sftp" drop, not of an "ftp" one`)
		}
		return c.checkFTP(key, d)
	case "sftp":
		return c.checkSFTP(key, d)
	default:
		return c.errorf(key+".type", `%q is not "dir", "ftp" or "sftp"`, d.Type)
	}
	return nil
}

func (c *Config) checkFTP(key string, d *DropConfig) error {
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
	return c.checkSecretRef(key+".password", d.PasswordEnv, d.PasswordFile)
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

// checkBursar checks that the bursar is a built-in one.
func (c *Config) checkBursar() error {
	if _, err := peoplesoft.BuiltinBursar(c.Bursar); err != nil {
		return c.errorf("bursar", "unknown student system %q (want one of %s)", c.Bursar, strings.Join(peoplesoft.BuiltinBursars(), ", "))
	}
	return nil
}

// checkLayouts loads the layout files the config names.
func (c *Config) checkLayouts() error {
	if !builtinLayoutName(c.Layout.Charges) {
		if _, err := c.layout("layout.charges", c.Layout.Charges, ""); err != nil {
			return err
		}
	}
	if l, err := c.ChargeLayout(); err == nil && len(c.Colleges) > 0 && !hasField(l.Detail, "BUSINESS_UNIT") {
		return c.errorf("layout.charges", "the charge layout %q has no BUSINESS_UNIT field: with [[colleges]], each charge line must name its college's business unit", l.Name)
	}
	if !builtinLayoutName(c.Layout.Payments) {
		if _, err := c.layout("layout.payments", c.Layout.Payments, ""); err != nil {
			return err
		}
	}
	if c.Layout.Results != "reference" {
		if _, err := c.layout("layout.results", c.Layout.Results, ""); err != nil {
			return err
		}
	}
	return c.checkResultsFolder()
}

// checkResultsFolder checks that the load's results have a folder of
// their own on PeopleSoft's drop, and that they are read when a layout or
// a schedule is given for them.
func (c *Config) checkResultsFolder() error {
	ps := c.PeopleSoft
	f := ps.ResultsFolder
	if f == "" {
		for _, key := range []string{"layout.results", "schedules.results"} {
			if c.defined(key) {
				return c.errorf(key, "set peoplesoft.results_folder too, or the results are never read")
			}
		}
		return nil
	}
	out, in := cmp.Or(ps.OutboundFolder, "outbound"), cmp.Or(ps.InboundFolder, "inbound")
	if f == out || f == in || f == ps.InboundTakenFolder {
		return c.errorf("peoplesoft.results_folder", "%q is also another folder of the drop: the results need a folder of their own", f)
	}
	return nil
}

// hasField reports whether record r has a field named name.
func hasField(r peoplesoft.Record, name string) bool {
	for _, f := range r.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

// checkItemTypes checks each configured code against what the bursar's
// codes look like (PeopleSoft's 12 digits, Banner's 4-character detail
// codes, Colleague's AR codes, or item_type_pattern), then the bursar's
// built-in codes that the file leaves in place.
func (c *Config) checkItemTypes() error {
	m := c.Mapping()
	re, err := m.ItemTypeRegexp()
	if err != nil {
		return c.errorf("item_type_pattern", "%v", err)
	}
	for typ, code := range c.ItemTypes {
		if re.MatchString(code) {
			continue
		}
		return c.itemTypeError("item_types."+typ, code)
	}
	for _, typ := range slices.Sorted(maps.Keys(m.ItemTypes)) {
		if _, set := c.ItemTypes[string(typ)]; !set && !re.MatchString(m.ItemTypes[typ]) {
			return c.errorf("item_type_pattern", "the %s built-in code %q of %s does not match %q: set the code in [item_types]", c.Bursar, m.ItemTypes[typ], typ, c.ItemTypePattern)
		}
	}
	return nil
}

// itemTypeError is the error of a code at key that does not look like
// the bursar's codes.
func (c *Config) itemTypeError(key, code string) error {
	if (c.Bursar == "" || c.Bursar == peoplesoft.BursarPeopleSoft) && c.ItemTypePattern == "" {
		return c.errorf(key, "%q is not a 12-digit PeopleSoft item type", code)
	}
	return c.errorf(key, "%q is not a %s code: %s", code, c.bursar().Name, c.Mapping().ItemTypeWant())
}

// checkRefunds checks the refund item types and the refund policies
// (R8): a policy is "refund" or "report", a ratio 0 to 100, a refund item
// type 12 digits and no charge's, and a fee type refunded to PeopleSoft
// has a refund item type.
func (c *Config) checkRefunds() error {
	mp := c.Mapping()
	re, err := mp.ItemTypeRegexp()
	if err != nil {
		return nil // checkItemTypes names it
	}
	for typ, code := range c.RefundItemTypes {
		if !re.MatchString(code) {
			return c.itemTypeError("refund_item_types."+typ, code)
		}
		for ct, cit := range mp.ItemTypes {
			if cit == code {
				return c.errorf("refund_item_types."+typ, "%q is also the item type of %s charges: a refund needs its own", code, ct)
			}
		}
	}
	for typ, r := range c.Refunds {
		key := "refunds." + typ
		switch r.Policy {
		case "", RefundPolicyReport:
		case RefundPolicyRefund:
			if _, ok := mp.RefundItemTypes[fees.Type(typ)]; !ok {
				return c.errorf(key+".policy", "refund needs a refund item type for %s in [refund_item_types]", typ)
			}
		default:
			return c.errorf(key+".policy", "%q: want %q or %q", r.Policy, RefundPolicyRefund, RefundPolicyReport)
		}
		if r.Ratio != nil && (*r.Ratio < 0 || *r.Ratio > 100) {
			return c.errorf(key+".ratio", "%d: want a percentage from 0 to 100", *r.Ratio)
		}
	}
	return nil
}

// checkTerms checks each term and that no two overlap.
func (c *Config) checkTerms() error {
	if err := c.checkTermList("terms", c.Terms); err != nil {
		return err
	}
	if c.DueDays < 0 {
		return c.errorf("due_days", "%d must not be negative", c.DueDays)
	}
	return nil
}

// checkTermList checks the terms at key (terms, or a college's).
func (c *Config) checkTermList(key string, terms []Term) error {
	for i, t := range terms {
		key := fmt.Sprintf("%s[%d]", key, i)
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
			o := terms[j]
			if !t.Start.After(o.End.Time) && !o.Start.After(t.End.Time) {
				return c.errorf(key, "term %s overlaps term %s", t.Code, o.Code)
			}
		}
	}
	return nil
}

// checkSeasons checks the seasons, then the calendar they make with the
// terms.
func (c *Config) checkSeasons() error {
	if err := c.checkSeasonList("seasons", c.Seasons); err != nil {
		return err
	}
	if err := c.calendar().Validate(); err != nil {
		key := "terms"
		if strings.Contains(err.Error(), "code_format") {
			key = "term_code_format"
		}
		return c.errorf(key, "%v", err)
	}
	return nil
}

// checkSeasonList checks the seasons at key (seasons, or a college's).
func (c *Config) checkSeasonList(key string, seasons []Season) error {
	for i, se := range seasons {
		key := fmt.Sprintf("%s[%d]", key, i)
		if se.Name == "" || se.Suffix == "" {
			return c.errorf(key, "a season needs a name and a suffix")
		}
		for _, d := range []struct{ k, v string }{{"start", se.Start}, {"end", se.End}} {
			if _, err := time.Parse("01-02", d.v); err != nil {
				return c.errorf(key+"."+d.k, "%q is not a day of the year (MM-DD)", d.v)
			}
		}
	}
	return nil
}

func (c *Config) checkWaive() error {
	if c.Waive.Reason == "" {
		return c.errorf("waive.reason", "must not be empty: Alma requires a reason to waive")
	}
	for i, t := range c.Waive.Types {
		if t == "" {
			return c.errorf(fmt.Sprintf("waive.types[%d]", i), "empty fee type")
		}
	}
	return nil
}

func (c *Config) checkWebhook() error {
	if c.Webhook.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Webhook.Listen); err != nil {
			return c.errorf("webhook.listen", "%q is not host:port", c.Webhook.Listen)
		}
	}
	if !strings.HasPrefix(c.Webhook.Path, "/") {
		return c.errorf("webhook.path", "%q must start with /", c.Webhook.Path)
	}
	return c.checkSecretRef("webhook.status_token", c.Webhook.StatusTokenEnv, c.Webhook.StatusTokenFile)
}

func (c *Config) checkLog() error {
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

// checkExpect checks the expect_files_within durations: from a minute to
// a year, when set.
func (c *Config) checkExpect() error {
	for _, e := range []struct {
		key string
		d   OffDuration
	}{{"charges", c.ExpectFilesWithin.Charges}, {"credits", c.ExpectFilesWithin.Credits}, {"payments", c.ExpectFilesWithin.Payments}} {
		if e.d != 0 && (e.d.D() < time.Minute || e.d.D() > 366*24*time.Hour) {
			return c.errorf("expect_files_within."+e.key, "%s is not from 1m to 8784h (a year)", e.d.D())
		}
	}
	return nil
}

var (
	// businessUnitRE is PeopleSoft's SF business unit: up to 5 letters
	// or digits.
	businessUnitRE = regexp.MustCompile(`^[A-Za-z0-9]{1,5}$`)
	envNameRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	indexRE        = regexp.MustCompile(`\[[0-9]+\]`)
)

func validFolder(f string) bool {
	if strings.HasPrefix(f, "/") || strings.Contains(f, `\`) {
		return false
	}
	return !slices.Contains(strings.Split(f, "/"), "..")
}

// checkServe checks the [serve] section: a lease long enough to be
// renewed (every lease/3) and an instance name that reads on one line.
func (c *Config) checkServe() error {
	if d := c.Serve.Lease.D(); d < 3*time.Second || d > time.Hour {
		return c.errorf("serve.lease", "%s is not a lease from 3s to 1h (it is renewed every third of it)", d)
	}
	for _, r := range c.Serve.Instance {
		if r < ' ' || r == 0x7f || len(c.Serve.Instance) > 100 {
			return c.errorf("serve.instance", "%q is not a name of at most 100 printable characters", c.Serve.Instance)
		}
	}
	return nil
}
