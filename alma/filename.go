package alma

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FileName returns the name Alma gives a bursar file:
// <profile>-<jobid>-<timestamp>.xml, where timestamp is the Unix time of
// the run in milliseconds, such as "BURSAR-7210493750006761-1705341603000.xml".
//
// Ex Libris documents that the number in a bursar file's name is the Unix
// epoch time stamp of the run, which makes every name unique; the files
// seen from Alma carry it in milliseconds (13 digits). jobID must not
// contain '-' (profile may), or ParseFileName cannot split the name back.
func FileName(profile, jobID string, t time.Time) string {
	return profile + "-" + jobID + "-" + strconv.FormatInt(t.UnixMilli(), 10) + ".xml"
}

// ParseFileName splits a name made by [FileName] (or by Alma) into its
// parts. The time stamp may be in milliseconds (13 digits) or seconds (10
// digits); t is in UTC. A name with a directory part, or that is not of
// the form <profile>-<jobid>-<timestamp>.xml, is an error.
func ParseFileName(name string) (profile, jobID string, t time.Time, err error) {
	bad := func(why string) error { return fmt.Errorf("alma: bursar file name %q: %s", name, why) }
	if strings.ContainsAny(name, `/\`) || strings.Contains(name, "..") {
		return "", "", time.Time{}, bad("has a directory part")
	}
	base, ok := strings.CutSuffix(name, ".xml")
	if !ok {
		if base, ok = strings.CutSuffix(name, ".XML"); !ok {
			return "", "", time.Time{}, bad("does not end in .xml")
		}
	}
	rest, stamp, ok := cutLast(base, "-")
	if !ok {
		return "", "", time.Time{}, bad("want <profile>-<jobid>-<timestamp>.xml")
	}
	profile, jobID, ok = cutLast(rest, "-")
	if !ok || profile == "" || jobID == "" {
		return "", "", time.Time{}, bad("want <profile>-<jobid>-<timestamp>.xml")
	}
	for _, c := range []byte(stamp) {
		if c < '0' || c > '9' {
			return "", "", time.Time{}, bad("time stamp is not a number")
		}
	}
	n, perr := strconv.ParseInt(stamp, 10, 64)
	switch {
	case perr != nil || (len(stamp) != 13 && len(stamp) != 10):
		return "", "", time.Time{}, bad("time stamp is not Unix time in milliseconds or seconds")
	case len(stamp) == 13:
		t = time.UnixMilli(n).UTC()
	default:
		t = time.Unix(n, 0).UTC()
	}
	return profile, jobID, t, nil
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
