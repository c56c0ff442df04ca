package ipatest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/imageops/cloud/gomodules/openstack/baremetal"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// Defaults of a Tester.
const (
	// DefaultTimeout bounds the deploy: ipa_tester waits 20 minutes for
	// the server to become active.
	DefaultTimeout = 20 * time.Minute
	// DefaultTeardownTimeout bounds an undeploy.
	DefaultTeardownTimeout = 10 * time.Minute
	// DefaultConflictRetries is how many times a node that answers 409
	// (locked by a conductor, in a transition) is tried again.
	DefaultConflictRetries = 8
	// DefaultConflictDelay is the first wait before such a retry; it
	// doubles each time, up to maxConflictDelay.
	DefaultConflictDelay = 500 * time.Millisecond
	maxConflictDelay     = 15 * time.Second
	// leftoverAge: a reservation without record younger than this may
	// belong to a live run that has not written its record yet.
	leftoverAge = time.Minute
)

// The steps a failure names (Result.FailedStep).
const (
	StepRecover   = "recover"
	StepImages    = "images"
	StepReserve   = "reserve"
	StepConfigure = "configure"
	StepDeploy    = "deploy"
	StepUndeploy  = "undeploy"
	StepRestore   = "restore"
	StepPush      = "push"
	StepRelease   = "release"
)

// Options are a test's settings.
type Options struct {
	// NodeType is the resource_class of the nodes tested.
	NodeType string
	// KernelImage and InitramfsImage are the pair (Glance IDs or names);
	// "" means the newest active image with build-ipa kernel / initramfs.
	KernelImage, InitramfsImage string
	// TestImage is deployed on the node; "" means the newest active image
	// with build-distro ubuntu and build-variant base.
	TestImage string
	// Push sets the pair on every node of the type after a pass.
	Push bool
	// Timeout bounds the deploy (until active).
	Timeout time.Duration
	// CheckMode changes nothing and says what would change.
	CheckMode bool
}

// Tester runs tests against one cloud's Glance and Ironic.
type Tester struct {
	glance          *glance.Client
	ironic          *baremetal.Client
	reserver        Reserver
	self            process
	now             func() time.Time
	teardownTimeout time.Duration
	retries         int
	retryDelay      time.Duration
}

// TesterOption configures a Tester.
type TesterOption func(*Tester)

// WithReserver replaces the reservation step. Default: Allocations.
func WithReserver(r Reserver) TesterOption { return func(t *Tester) { t.reserver = r } }

// WithTeardownTimeout bounds each undeploy. Default: DefaultTeardownTimeout.
func WithTeardownTimeout(d time.Duration) TesterOption {
	return func(t *Tester) { t.teardownTimeout = d }
}

// WithConflictRetries sets how often, and after what first delay, a 409 is
// retried. Default: DefaultConflictRetries, DefaultConflictDelay.
func WithConflictRetries(retries int, delay time.Duration) TesterOption {
	return func(t *Tester) { t.retries, t.retryDelay = retries, delay }
}

// New returns a Tester.
func New(g *glance.Client, i *baremetal.Client, opts ...TesterOption) *Tester {
	t := &Tester{glance: g, ironic: i, reserver: Allocations{Client: i}, self: currentProcess(), now: time.Now,
		teardownTimeout: DefaultTeardownTimeout, retries: DefaultConflictRetries, retryDelay: DefaultConflictDelay}
	for _, apply := range opts {
		apply(t)
	}
	return t
}

// Result is the module's result.
type Result struct {
	Changed bool `json:"changed"`
	// Passed is true when the deploy reached active.
	Passed bool `json:"passed"`
	// Tested is false when nothing was deployed (check mode, or push with
	// every node already on the pair).
	Tested bool `json:"tested"`
	// Node and NodeUUID name the node tested (or, in check mode, that would be).
	Node     string `json:"node,omitempty"`
	NodeUUID string `json:"node_uuid,omitempty"`
	// KernelImage, InitramfsImage and TestImage are Glance image IDs.
	KernelImage    string `json:"kernel_image,omitempty"`
	InitramfsImage string `json:"initramfs_image,omitempty"`
	TestImage      string `json:"test_image,omitempty"`
	// FailedStep and LastError say what failed (LastError: Ironic's node
	// last_error, or the module's own reason).
	FailedStep string `json:"failed_step,omitempty"`
	LastError  string `json:"last_error,omitempty"`
	// Restored is true when the tested node got its previous pair back.
	Restored bool `json:"restored"`
	// Pushed lists the nodes whose pair push changed; PushFailed those it
	// could not change, with why.
	Pushed     []string      `json:"pushed"`
	PushFailed []PushFailure `json:"push_failed"`
	// Recovered lists the nodes a killed earlier run had changed, now undone.
	Recovered []string `json:"recovered"`
	// Changes says, in words, what was (or in check mode would be) done.
	Changes []string `json:"changes"`
	Msg     string   `json:"msg,omitempty"`
	Diff    Diff     `json:"diff"`
}

// PushFailure is a node push could not update.
type PushFailure struct {
	Node  string `json:"node"`
	Error string `json:"error"`
}

// Diff is the deploy pair of every node of the type before and after the
// run (after: what lasts; the test node's temporary pair does not).
type Diff struct {
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
}

// StepError fails the module with the result so far.
type StepError struct {
	Result Result
	Err    error
}

func (e *StepError) Error() string { return e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// Fields gives Ansible the result's fields beside msg.
func (e *StepError) Fields() map[string]any {
	fields, _ := toFields(e.Result)
	return fields
}

// run is the state of one Run.
type run struct {
	*Tester
	opts   Options
	result Result
	tested pair
}

// Run tests the pair on one node of opts.NodeType.
func (t *Tester) Run(ctx context.Context, opts Options) (Result, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	r := &run{Tester: t, opts: opts, result: Result{Pushed: []string{}, PushFailed: []PushFailure{}, Recovered: []string{}, Changes: []string{}}}
	err := r.do(ctx)
	if err != nil {
		return r.result, &StepError{Result: r.result, Err: err}
	}
	return r.result, nil
}

// fail records the failed step and returns err.
func (r *run) fail(step, lastError string, err error) error {
	r.result.FailedStep, r.result.LastError = step, lastError
	return fmt.Errorf("ipa_test: step %s failed: %w", step, err)
}

func (r *run) change(format string, args ...any) {
	r.result.Changes = append(r.result.Changes, fmt.Sprintf(format, args...))
}

func (r *run) do(ctx context.Context) error {
	nodes, err := r.nodesOfType(ctx)
	if err != nil {
		return r.fail(StepReserve, "", err)
	}
	r.result.Diff.Before = pairsOf(nodes)
	r.result.Diff.After = pairsOf(nodes)
	busy, recovered, err := r.recover(ctx, nodes)
	if err != nil {
		return r.fail(StepRecover, "", err)
	}
	if r.opts.CheckMode {
		nodes = recovered // as a real run would find them once it undid killed runs
	} else if nodes, err = r.nodesOfType(ctx); err != nil {
		return r.fail(StepReserve, "", err)
	}
	if !r.opts.CheckMode {
		// Before stays as the run found the nodes: the diff shows killed runs undone.
		r.result.Diff.After = pairsOf(nodes)
	}
	testImage, err := r.resolveImages(ctx)
	if err != nil {
		return r.fail(StepImages, "", err)
	}
	if r.opts.Push && allHold(nodes, r.tested) {
		r.result.Msg = fmt.Sprintf("every node of type %q already uses deploy_kernel %s and deploy_ramdisk %s; nothing to test",
			r.opts.NodeType, r.tested.Kernel, r.tested.Ramdisk)
		return nil
	}
	candidates, why := candidatesAmong(nodes, busy)
	if len(candidates) == 0 {
		return r.fail(StepReserve, "", fmt.Errorf("no node of type %q can be reserved: %s", r.opts.NodeType, strings.Join(why, "; ")))
	}
	if r.opts.CheckMode {
		r.plan(candidates[0], nodes, testImage)
		return nil
	}
	node, reservation, err := r.reserve(ctx, candidates)
	if err != nil {
		return r.fail(StepReserve, "", err)
	}
	return r.test(ctx, node, reservation, nodes, testImage)
}

func (r *run) nodesOfType(ctx context.Context) ([]baremetal.Node, error) {
	nodes, err := r.ironic.Nodes(ctx, baremetal.ListOptions{ResourceClass: r.opts.NodeType})
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("node_type %q: no Ironic node has that resource_class; expected one of the resource classes of the nodes: %s",
			r.opts.NodeType, r.resourceClasses(ctx))
	}
	return nodes, nil
}

// resourceClasses says which resource classes Ironic's nodes have, with how
// many nodes each, for the error of a node_type that none has (on a
// Chameleon site the node type is Blazar's, and the Ironic resource class
// may be the generic "baremetal").
func (r *run) resourceClasses(ctx context.Context) string {
	all, err := r.ironic.Nodes(ctx, baremetal.ListOptions{})
	if err != nil {
		return fmt.Sprintf("(listing them failed: %v)", err)
	}
	count := map[string]int{}
	for _, node := range all {
		count[node.ResourceClass]++
	}
	if len(count) == 0 {
		return "(Ironic has no nodes)"
	}
	classes := make([]string, 0, len(count))
	for class, n := range count {
		classes = append(classes, fmt.Sprintf("%q (%d)", class, n))
	}
	sort.Strings(classes)
	return strings.Join(classes, ", ")
}

func pairsOf(nodes []baremetal.Node) map[string]any {
	out := map[string]any{}
	for _, node := range nodes {
		out[baremetal.NodeName(node)] = pairOf(node)
	}
	return out
}

func allHold(nodes []baremetal.Node, p pair) bool {
	for _, node := range nodes {
		if !p.heldBy(node) {
			return false
		}
	}
	return true
}

// resolveImages checks the pair and the test image in Glance.
func (r *run) resolveImages(ctx context.Context) (string, error) {
	choices := []imageChoice{
		{option: "kernel_image", given: r.opts.KernelImage, properties: map[string]string{IPAProperty: IPAKernel}},
		{option: "initramfs_image", given: r.opts.InitramfsImage, properties: map[string]string{IPAProperty: IPAInitramfs}},
		{option: "test_image", given: r.opts.TestImage, properties: defaultTestImage},
	}
	ids := make([]string, len(choices))
	for i, choice := range choices {
		image, err := choice.resolve(ctx, r.glance)
		if err != nil {
			return "", err
		}
		ids[i] = image.ID
	}
	r.tested = pair{Kernel: ids[0], Ramdisk: ids[1]}
	r.result.KernelImage, r.result.InitramfsImage, r.result.TestImage = ids[0], ids[1], ids[2]
	if ids[0] == ids[1] {
		return "", fmt.Errorf("kernel_image and initramfs_image are the same image %s", ids[0])
	}
	return ids[2], nil
}

// candidatesAmong returns the nodes a test may reserve, by name, and why
// the others may not.
func candidatesAmong(nodes []baremetal.Node, busy map[string]string) ([]baremetal.Node, []string) {
	var candidates []baremetal.Node
	var why []string
	for _, node := range nodes {
		name := baremetal.NodeName(node)
		switch {
		case busy[node.UUID] != "":
			why = append(why, fmt.Sprintf("%s is being tested by another run (%s)", name, busy[node.UUID]))
		case node.Maintenance:
			why = append(why, fmt.Sprintf("%s is in maintenance (%s)", name, node.MaintenanceReason))
		case node.ProvisionState != baremetal.StateAvailable || baremetal.InTransition(node):
			why = append(why, fmt.Sprintf("%s is %s, not available", name, describeState(node)))
		case node.AllocationUUID != "" || node.InstanceUUID != "":
			why = append(why, fmt.Sprintf("%s is already allocated", name))
		case node.PowerState == "":
			why = append(why, fmt.Sprintf("%s has no known power state", name))
		default:
			candidates = append(candidates, node)
		}
	}
	sort.SliceStable(candidates, func(i, j int) bool {
		return baremetal.NodeName(candidates[i]) < baremetal.NodeName(candidates[j])
	})
	return candidates, why
}

func describeState(node baremetal.Node) string {
	if node.TargetProvisionState != "" {
		return fmt.Sprintf("%q (moving to %q)", node.ProvisionState, node.TargetProvisionState)
	}
	return fmt.Sprintf("%q", node.ProvisionState)
}

// plan says, in check mode, what a run would do.
func (r *run) plan(node baremetal.Node, nodes []baremetal.Node, testImage string) {
	name := baremetal.NodeName(node)
	r.result.Node, r.result.NodeUUID = name, node.UUID
	r.change("reserve node %s (%s)", name, r.reserver.Describe(node))
	r.change("set node %s driver_info deploy_kernel %s and deploy_ramdisk %s (recorded in extra.%s)", name, r.tested.Kernel, r.tested.Ramdisk, RecordKey)
	r.change("deploy image %s on node %s and wait up to %s for active", testImage, name, r.opts.Timeout)
	r.change("undeploy node %s", name)
	if r.opts.Push {
		r.pushPlan(nodes)
	} else {
		r.change("restore node %s driver_info %v", name, describePair(pairOf(node)))
	}
	r.change("release the reservation of node %s", name)
}

func describePair(p map[string]any) string {
	var parts []string
	for _, key := range deployKeys {
		if value, ok := p[key]; ok {
			parts = append(parts, fmt.Sprintf("%s %v", key, value))
		} else {
			parts = append(parts, key+" absent")
		}
	}
	return strings.Join(parts, ", ")
}

// reserve reserves the first candidate someone else has not taken meanwhile.
func (r *run) reserve(ctx context.Context, candidates []baremetal.Node) (baremetal.Node, string, error) {
	var taken []string
	for _, node := range candidates {
		id, err := r.reserver.Reserve(ctx, node)
		if err == nil {
			r.result.Node, r.result.NodeUUID = baremetal.NodeName(node), node.UUID
			r.change("reserved node %s (%s)", baremetal.NodeName(node), r.reserver.Describe(node))
			return node, id, nil
		}
		if !r.reserver.Taken(err) {
			return baremetal.Node{}, "", fmt.Errorf("reserving node %s: %w", baremetal.NodeName(node), err)
		}
		taken = append(taken, fmt.Sprintf("%s: %v", baremetal.NodeName(node), err))
	}
	return baremetal.Node{}, "", fmt.Errorf("every available node of type %q was taken meanwhile: %s", r.opts.NodeType, strings.Join(taken, "; "))
}

func isAllocationFailed(err error) bool { return errors.Is(err, baremetal.ErrAllocationFailed) }
