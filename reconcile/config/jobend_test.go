package config_test

import (
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile/config"
)

// TestJobEndKeys (issue 18): alma.export_job and alma.credit_export_job
// are read, and a mistake in them is named with its key and line.
func TestJobEndKeys(t *testing.T) {
	c, err := config.Parse(strings.NewReader(minimalConfig+"[alma]\nexport_job = \"Export to Bursar - BURSAR\"\ncredit_export_job = \"S7210493750006761\"\n"), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Alma.ExportJob != "Export to Bursar - BURSAR" || c.Alma.CreditExportJob != "S7210493750006761" {
		t.Errorf("alma = %+v", c.Alma)
	}
	for name, tc := range map[string]struct{ add, want string }{
		"same job twice": {"[alma]\nexport_job = \"Bursar\"\ncredit_export_job = \"bursar\"\n", "f.toml:10: alma.credit_export_job: \"bursar\" is alma.export_job too"},
		"blank":          {"[alma]\nexport_job = \"  \"\n", "f.toml:9: alma.export_job: only blanks"},
		"control":        {"[alma]\nexport_job = \"Bursar\\nexport\"\n", "alma.export_job: \"Bursar\\nexport\" holds a control character"},
		"too long":       {"[alma]\ncredit_export_job = \"" + strings.Repeat("x", 201) + "\"\n", "alma.credit_export_job: 201 characters, more than 200"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(minimalConfig+tc.add), "f.toml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
