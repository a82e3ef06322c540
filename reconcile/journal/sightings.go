package journal

import (
	"context"
	"fmt"
	"time"
)

// Sighting is a file of an inbound folder as a job last saw it change:
// its size and modification time, and when the job first saw it so (on
// the jobs' clock). A job claims a file once a later listing, at least
// the settle time after FirstSeen, shows the same size and time: the
// sender has stopped writing it. The sightings table keeps them across
// runs, so that a file unchanged since an earlier run is claimed at once.
type Sighting struct {
	Job       string
	Name      string
	Size      int64
	ModTime   time.Time
	FirstSeen time.Time
}

// Sightings returns the sightings of job, by name. It fails only when the
// database does.
func (j *Journal) Sightings(ctx context.Context, job string) ([]Sighting, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT job, name, size, mod_time, first_seen FROM sightings WHERE job = ? ORDER BY name`, job)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []Sighting
	for rows.Next() {
		var s Sighting
		var mod, first string
		if err := rows.Scan(&s.Job, &s.Name, &s.Size, &mod, &first); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		s.ModTime, s.FirstSeen = parseTime(mod), parseTime(first)
		out = append(out, s)
	}
	return out, rows.Err()
}

// SetSighting inserts or replaces the sighting of s.Job and s.Name. A zero
// FirstSeen is the journal's clock. It fails only when the database does.
func (j *Journal) SetSighting(ctx context.Context, s Sighting) error {
	_, err := j.exec(ctx, `INSERT INTO sightings(job, name, size, mod_time, first_seen) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(job, name) DO UPDATE SET size = excluded.size, mod_time = excluded.mod_time, first_seen = excluded.first_seen`,
		s.Job, s.Name, s.Size, formatTime(s.ModTime), formatTime(j.at(s.FirstSeen)))
	if err != nil {
		return fmt.Errorf("journal: sighting of %s: %w", s.Name, err)
	}
	return nil
}

// ForgetSightings removes the sightings of job for names (claimed, or gone
// from the folder). It fails only when the database does.
func (j *Journal) ForgetSightings(ctx context.Context, job string, names []string) error {
	for _, name := range names {
		if _, err := j.exec(ctx, `DELETE FROM sightings WHERE job = ? AND name = ?`, job, name); err != nil {
			return fmt.Errorf("journal: sighting of %s: %w", name, err)
		}
	}
	return nil
}
