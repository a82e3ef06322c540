package alma_test

import (
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
)

func TestFileNameRoundTrip(t *testing.T) {
	tests := []struct {
		profile, job string
		t            time.Time
		want         string
	}{
		{"BURSAR", "7210493750006761", time.UnixMilli(1705341603123).UTC(), "BURSAR-7210493750006761-1705341603123.xml"},
		{"fines-to-peoplesoft", "1", time.Date(2026, 11, 28, 18, 0, 0, 0, time.FixedZone("PST", -8*3600)), "fines-to-peoplesoft-1-1795917600000.xml"},
	}
	for _, tt := range tests {
		name := alma.FileName(tt.profile, tt.job, tt.t)
		if name != tt.want {
			t.Errorf("FileName = %q, want %q", name, tt.want)
		}
		profile, job, at, err := alma.ParseFileName(name)
		if err != nil || profile != tt.profile || job != tt.job || !at.Equal(tt.t) {
			t.Errorf("ParseFileName(%q) = %q %q %v %v", name, profile, job, at, err)
		}
	}
}

func TestParseFileName(t *testing.T) {
	good := []struct {
		name, profile, job string
		t                  time.Time
	}{
		{"BURSAR-123-1705341603.xml", "BURSAR", "123", time.Unix(1705341603, 0).UTC()},
		{"BURSAR-123-1705341603000.XML", "BURSAR", "123", time.Unix(1705341603, 0).UTC()},
	}
	for _, tt := range good {
		profile, job, at, err := alma.ParseFileName(tt.name)
		if err != nil || profile != tt.profile || job != tt.job || !at.Equal(tt.t) {
			t.Errorf("ParseFileName(%q) = %q %q %v %v", tt.name, profile, job, at, err)
		}
	}
	for _, name := range []string{
		"", "BURSAR.xml", "BURSAR-1705341603000.xml", "-123-1705341603000.xml", "BURSAR--1705341603000.xml",
		"BURSAR-123-170534160300.xml", "BURSAR-123-17053416030001.xml", "BURSAR-123-1705341603000.csv",
		"BURSAR-123-+705341603000.xml", "../BURSAR-123-1705341603000.xml", "in/BURSAR-123-1705341603000.xml",
		`in\BURSAR-123-1705341603000.xml`,
	} {
		if _, _, _, err := alma.ParseFileName(name); err == nil {
			t.Errorf("ParseFileName(%q) succeeded", name)
		}
	}
}
