package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

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

// D is the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalText parses a Go duration, which must be positive.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil || v <= 0 {
		return fmt.Errorf("%q is not a positive duration such as 30s or 2m", b)
	}
	*d = Duration(v)
	return nil
}

// OffDuration is a [Duration] that can be turned off: "" or "off" is 0.
type OffDuration Duration

// D is the duration as a time.Duration; 0 when off.
func (d OffDuration) D() time.Duration { return time.Duration(d) }

// UnmarshalText parses "", "off" or a positive Go duration.
func (d *OffDuration) UnmarshalText(b []byte) error {
	if s := string(b); s == "" || s == "off" {
		*d = 0
		return nil
	}
	return (*Duration)(d).UnmarshalText(b)
}

// CronSpec is a standard five-field cron spec, checked when read.
type CronSpec string

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// CronParser returns the parser of the specs: five fields, or a
// descriptor such as @daily. A scheduler given it reads the specs as the
// config checked them.
func CronParser() cron.Parser { return cronParser }

// Schedule parses the spec; an empty spec has no schedule and is an error.
func (s CronSpec) Schedule() (cron.Schedule, error) { return cronParser.Parse(string(s)) }

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
