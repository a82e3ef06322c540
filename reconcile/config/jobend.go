package config

import (
	"strings"
	"unicode"
)

// maxJobName bounds alma.export_job and alma.credit_export_job.
const maxJobName = 200

// checkJobEnd checks alma.export_job and alma.credit_export_job: printable
// names of at most maxJobName characters, not the same job twice (one
// JOB_END cannot start both the charges and the credits job).
func (c *Config) checkJobEnd() error {
	for _, k := range []struct{ key, v string }{
		{"alma.export_job", c.Alma.ExportJob}, {"alma.credit_export_job", c.Alma.CreditExportJob},
	} {
		if len(k.v) > maxJobName {
			return c.errorf(k.key, "%d characters, more than %d: give Alma's job name or job id", len(k.v), maxJobName)
		}
		if strings.IndexFunc(k.v, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			return c.errorf(k.key, "%q holds a control character: give Alma's job name as Monitor Jobs shows it", k.v)
		}
		if k.v != "" && strings.TrimSpace(k.v) == "" {
			return c.errorf(k.key, "only blanks: give Alma's job name or job id, or leave it out")
		}
	}
	e, cr := strings.TrimSpace(c.Alma.ExportJob), strings.TrimSpace(c.Alma.CreditExportJob)
	if e != "" && strings.EqualFold(e, cr) {
		return c.errorf("alma.credit_export_job", "%q is alma.export_job too: one Alma job cannot start both the charges and the credits job", cr)
	}
	return nil
}
