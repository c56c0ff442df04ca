package ipatest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/imageops/cloud/gomodules/openstack/baremetal"
)

// RecordKey is the key of a node's extra under which a run records what it
// changed on the node, until it has undone it.
const RecordKey = "imageops_ipa_test"

// deployKeys are the driver_info keys a run changes.
var deployKeys = []string{baremetal.DeployKernelKey, baremetal.DeployRamdiskKey}

// record is what a run wrote on the node it tests (extra.imageops_ipa_test).
type record struct {
	// Run identifies the run; Host, BootID, PID and PIDStart identify its
	// process, so that a later run on the same machine can tell a killed run
	// from a live one.
	Run      string `json:"run"`
	Host     string `json:"host"`
	BootID   string `json:"boot_id"`
	PID      int    `json:"pid"`
	PIDStart string `json:"pid_start"`
	// StartedAt and ExpiresAt bound the run; a run on another machine is
	// taken for dead only after ExpiresAt.
	StartedAt time.Time `json:"started_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Previous holds the deploy keys the node had before, with their values;
	// a key absent here was absent from driver_info.
	Previous map[string]string `json:"previous"`
	// Tested is the pair under test.
	Tested map[string]string `json:"tested"`
	// Reservation is the Reserver's ID of the node's reservation.
	Reservation string `json:"reservation"`
}

// process is this run's identity.
type process struct {
	host, bootID, pidStart string
	pid                    int
}

func currentProcess() process {
	host, _ := os.Hostname()
	return process{host: host, bootID: bootID(), pid: os.Getpid(), pidStart: startTime(os.Getpid())}
}

func bootID() string {
	data, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(data))
}

// startTime returns the start time of process pid in clock ticks since boot
// (field 22 of /proc/<pid>/stat), or "" when there is no such process.
func startTime(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces; fields restart after ")".
	rest := string(data[strings.LastIndexByte(string(data), ')')+1:])
	fields := strings.Fields(rest)
	if len(fields) < 20 {
		return ""
	}
	return fields[19]
}

func newRunID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newRecord records the node's pair before the test and the pair tested.
func newRecord(node baremetal.Node, tested pair, reservation string, self process, now time.Time, lifetime time.Duration) record {
	previous := map[string]string{}
	for _, key := range deployKeys {
		if value, ok := node.DriverInfo[key]; ok && value != nil {
			previous[key] = fmt.Sprint(value)
		}
	}
	return record{Run: newRunID(), Host: self.host, BootID: self.bootID, PID: self.pid, PIDStart: self.pidStart,
		StartedAt: now.UTC(), ExpiresAt: now.Add(lifetime).UTC(), Previous: previous,
		Tested: tested.driverInfo(), Reservation: reservation}
}

// readRecord returns the node's record, if it has one.
func readRecord(node baremetal.Node) (record, bool, error) {
	raw, ok := node.Extra[RecordKey]
	if !ok || raw == nil {
		return record{}, false, nil
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return record{}, true, err
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		return record{}, true, fmt.Errorf("reading extra.%s of node %s: %w", RecordKey, baremetal.NodeName(node), err)
	}
	return rec, true, nil
}

// alive tells whether the run that wrote rec may still be going: its
// process still runs on this machine, or, when it ran on another machine,
// it has not expired yet.
func (rec record) alive(self process, now time.Time) bool {
	if rec.Host == self.host && rec.BootID == self.bootID && rec.BootID != "" {
		return rec.PID == self.pid || (rec.PIDStart != "" && startTime(rec.PID) == rec.PIDStart)
	}
	return now.Before(rec.ExpiresAt)
}

// restoreOps are the patch operations that give node back the pair rec
// recorded, exactly, and remove the record.
func (rec record) restoreOps(node baremetal.Node) []baremetal.PatchOp {
	var ops []baremetal.PatchOp
	for _, key := range deployKeys {
		path := baremetal.FieldPath("driver_info", key)
		if value, had := rec.Previous[key]; had {
			ops = append(ops, baremetal.Set(path, value))
		} else if _, has := node.DriverInfo[key]; has {
			ops = append(ops, baremetal.Remove(path))
		}
	}
	return append(ops, baremetal.Remove(baremetal.FieldPath("extra", RecordKey)))
}

// pair is a deploy kernel and ramdisk (Glance image IDs).
type pair struct {
	Kernel  string
	Ramdisk string
}

func (p pair) driverInfo() map[string]string {
	return map[string]string{baremetal.DeployKernelKey: p.Kernel, baremetal.DeployRamdiskKey: p.Ramdisk}
}

// setOps are the patch operations that set the pair on a node.
func (p pair) setOps() []baremetal.PatchOp {
	return []baremetal.PatchOp{
		baremetal.Set(baremetal.FieldPath("driver_info", baremetal.DeployKernelKey), p.Kernel),
		baremetal.Set(baremetal.FieldPath("driver_info", baremetal.DeployRamdiskKey), p.Ramdisk),
	}
}

// pairOf returns the node's deploy keys as the diff shows them: the value,
// or absent.
func pairOf(node baremetal.Node) map[string]any {
	out := map[string]any{}
	for _, key := range deployKeys {
		if value, ok := node.DriverInfo[key]; ok {
			out[key] = value
		}
	}
	return out
}

// holds tells whether the node's driver_info has exactly the pair.
func (p pair) heldBy(node baremetal.Node) bool {
	kernel, hasKernel, ramdisk, hasRamdisk := baremetal.DeployPair(node)
	return hasKernel && hasRamdisk && kernel == p.Kernel && ramdisk == p.Ramdisk
}
