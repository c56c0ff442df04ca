package ipatest

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/imageops/cloud/gomodules/openstack/baremetal"
)

func TestRestoreOpsGiveBackExactlyWhatWasThere(t *testing.T) {
	p := pair{Kernel: "new-k", Ramdisk: "new-r"}
	for _, tc := range []struct {
		name   string
		before map[string]any
		want   []baremetal.PatchOp
	}{
		{"both", map[string]any{"deploy_kernel": "k", "deploy_ramdisk": "r", "ipmi_address": "x"}, []baremetal.PatchOp{
			baremetal.Set("/driver_info/deploy_kernel", "k"), baremetal.Set("/driver_info/deploy_ramdisk", "r"),
			baremetal.Remove("/extra/imageops_ipa_test")}},
		{"kernel only", map[string]any{"deploy_kernel": "k"}, []baremetal.PatchOp{
			baremetal.Set("/driver_info/deploy_kernel", "k"), baremetal.Remove("/driver_info/deploy_ramdisk"),
			baremetal.Remove("/extra/imageops_ipa_test")}},
		{"neither", map[string]any{}, []baremetal.PatchOp{
			baremetal.Remove("/driver_info/deploy_kernel"), baremetal.Remove("/driver_info/deploy_ramdisk"),
			baremetal.Remove("/extra/imageops_ipa_test")}},
		{"empty string kept", map[string]any{"deploy_kernel": "", "deploy_ramdisk": "r"}, []baremetal.PatchOp{
			baremetal.Set("/driver_info/deploy_kernel", ""), baremetal.Set("/driver_info/deploy_ramdisk", "r"),
			baremetal.Remove("/extra/imageops_ipa_test")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecord(baremetal.Node{DriverInfo: tc.before}, p, "alloc", currentProcess(), time.Now(), time.Minute)
			// What the node holds during the test: the pair.
			during := baremetal.Node{DriverInfo: map[string]any{"deploy_kernel": "new-k", "deploy_ramdisk": "new-r"}}
			assert.Equal(t, tc.want, rec.restoreOps(during))
		})
	}
}

func TestAliveTellsKilledRunsFromLiveOnes(t *testing.T) {
	self := currentProcess()
	now := time.Now()
	rec := newRecord(baremetal.Node{}, pair{}, "", self, now, time.Hour)
	assert.True(t, rec.alive(self, now), "this very process")

	dead := rec
	dead.PID, dead.PIDStart = os.Getpid()+1_000_000, "1" // no such process
	assert.False(t, dead.alive(self, now), "a process that is gone, on this machine, even before expiry")

	recycled := rec
	recycled.PID = 1 // a live process, but not the one that started at PIDStart
	recycled.PIDStart = "0"
	assert.False(t, recycled.alive(self, now), "a recycled PID")

	elsewhere := rec
	elsewhere.Host = "another-host"
	assert.True(t, elsewhere.alive(self, now), "another machine's run before its expiry")
	assert.False(t, elsewhere.alive(self, now.Add(2*time.Hour)), "and after it")
}

func TestCandidatesSkipNodesThatCannotBeReserved(t *testing.T) {
	nodes := []baremetal.Node{
		{UUID: "5", Name: "e", ProvisionState: "available", PowerState: "power off"},
		{UUID: "1", Name: "a", ProvisionState: "available", PowerState: "power off", Maintenance: true, MaintenanceReason: "fan"},
		{UUID: "2", Name: "b", ProvisionState: "active", PowerState: "power on"},
		{UUID: "3", Name: "c", ProvisionState: "available", PowerState: "power off", AllocationUUID: "x"},
		{UUID: "4", Name: "d", ProvisionState: "available"},
		{UUID: "6", Name: "f", ProvisionState: "available", PowerState: "power off"},
		{UUID: "7", Name: "g", ProvisionState: "available", PowerState: "power off"},
	}
	candidates, why := candidatesAmong(nodes, map[string]string{"7": "run 1"})
	assert.Equal(t, []string{"e", "f"}, []string{candidates[0].Name, candidates[1].Name})
	assert.Equal(t, []string{`a is in maintenance (fan)`, `b is "active", not available`, `c is already allocated`,
		`d has no known power state`, `g is being tested by another run (run 1)`}, why)
}

func TestCheckModeSeesKilledRunsUndone(t *testing.T) {
	before := baremetal.Node{UUID: "u", Name: "g1", ProvisionState: "available", PowerState: "power off",
		DriverInfo: map[string]any{"deploy_kernel": "old-k", "ipmi_address": "x"}, Extra: map[string]any{"rack": "r1"}}
	rec := newRecord(before, pair{Kernel: "new-k", Ramdisk: "new-r"}, "alloc", currentProcess(), time.Now(), time.Minute)
	killed := before
	killed.ProvisionState, killed.TargetProvisionState, killed.AllocationUUID, killed.InstanceUUID = "wait call-back", "active", "alloc", "alloc"
	killed.DriverInfo = map[string]any{"deploy_kernel": "new-k", "deploy_ramdisk": "new-r", "ipmi_address": "x"}
	killed.Extra = map[string]any{"rack": "r1", RecordKey: rec}

	got := undone(killed, rec)
	assert.Equal(t, before.DriverInfo, got.DriverInfo)
	assert.Equal(t, before.Extra, got.Extra)
	candidates, why := candidatesAmong([]baremetal.Node{got}, nil)
	assert.Len(t, candidates, 1, why)
	assert.Equal(t, "new-k", killed.DriverInfo["deploy_kernel"], "the node read from Ironic is not changed")
}
