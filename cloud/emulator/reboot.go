package emulator

import (
	"slices"
	"time"
)

// DefaultRebootTime is how long a reboot takes when Options.RebootTime is
// zero: from the request until the instance is Running again, a few seconds,
// as the sandbox wants it.
const DefaultRebootTime = 3 * time.Second

// Reboot is a reboot in progress. Nothing runs while it lasts: an
// instance's status is derived from the reboot and the emulator's clock
// whenever the state is read or written (Stopping for the first half of the
// reboot, Starting for the second, then Running again), so a reboot
// progresses the same in every process sharing a state directory, and
// completes after a restart.
type Reboot struct {
	// Started is when the reboot was requested; Until is when the instance
	// is Running again. Both are the emulator's clock (Options.Now).
	Started time.Time `json:"started"`
	Until   time.Time `json:"until"`
	// Forced is ForceReboot or ForceStop: recorded, but no faster, since the
	// emulated guest has no operating system to wait for.
	Forced bool `json:"forced,omitempty"`
}

// phase is the status of a rebooting instance at now, and whether the
// reboot is over.
func (r *Reboot) phase(now time.Time) (status string, done bool) {
	switch {
	case !now.Before(r.Until):
		return "Running", true
	case now.Before(r.Started.Add(r.Until.Sub(r.Started) / 2)):
		return "Stopping", false
	default:
		return "Starting", false
	}
}

// settleReboots brings every rebooting instance's Status up to now; a reboot
// that is over is removed, and the instance's StartTime becomes its end.
// It sets fields of the instances only, never what they point to.
func settleReboots(s *State, now time.Time) {
	for i := range s.Instances {
		in := &s.Instances[i]
		if in.Reboot == nil {
			continue
		}
		status, done := in.Reboot.phase(now)
		if done {
			in.StartTime = creationTime(in.Reboot.Until)
			in.Reboot = nil
		}
		in.Status = status
	}
}

// present returns s as it is at the emulator's time: s itself when no
// instance is rebooting, else a settled copy, since a view must not modify
// the stored state. The copy shares all but the instance list with s:
// settleReboots changes nothing else, and a view changes nothing at all.
func (e *Emulator) present(s *State) *State {
	for _, in := range s.Instances {
		if in.Reboot != nil {
			c := *s
			c.Instances = slices.Clone(s.Instances)
			settleReboots(&c, e.now())
			return &c
		}
	}
	return s
}

// startReboot puts a Running instance into its reboot.
func (e *Emulator) startReboot(in *Instance, forced bool) {
	now := e.now()
	in.Reboot = &Reboot{Started: now, Until: now.Add(e.rebootTime), Forced: forced}
	in.Status, _ = in.Reboot.phase(now)
}
