package ipatest

import (
	"context"
	"errors"
	"fmt"

	"github.com/imageops/cloud/gomodules/openstack/baremetal"
)

// recover undoes what killed earlier runs left on nodes of the type: a
// record (the node's previous pair, the reservation), or a reservation
// older than leftoverAge that no record names, on a node still available. Nodes that a live run is
// testing are returned (UUID to run) and left alone. In check mode it only
// says what it would do, and returns the nodes as they would be after it.
func (r *run) recover(ctx context.Context, nodes []baremetal.Node) (map[string]string, []baremetal.Node, error) {
	busy := map[string]string{}
	var errs []error
	after := make([]baremetal.Node, len(nodes))
	copy(after, nodes)
	for i, node := range nodes {
		name := baremetal.NodeName(node)
		rec, found, err := readRecord(node)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if found && rec.alive(r.self, r.now()) {
			busy[node.UUID] = fmt.Sprintf("run %s of pid %d on %s, started %s", rec.Run, rec.PID, rec.Host, rec.StartedAt.Format("2006-01-02T15:04:05Z"))
			continue
		}
		if found {
			if err := r.recoverRecord(ctx, node, rec); err != nil {
				errs = append(errs, fmt.Errorf("undoing the killed run %s on node %s: %w", rec.Run, name, err))
			}
			after[i] = undone(node, rec)
			continue
		}
		if err := r.recoverReservation(ctx, node); err != nil {
			errs = append(errs, err)
		}
	}
	return busy, after, errors.Join(errs...)
}

// undone is node as undoing rec leaves it: undeployed, unreserved, its
// recorded pair back and the record gone.
func undone(node baremetal.Node, rec record) baremetal.Node {
	node.ProvisionState, node.TargetProvisionState, node.Reservation = baremetal.StateAvailable, "", ""
	node.AllocationUUID, node.InstanceUUID = "", ""
	info := map[string]any{}
	for key, value := range node.DriverInfo {
		info[key] = value
	}
	for _, key := range deployKeys {
		delete(info, key)
		if value, had := rec.Previous[key]; had {
			info[key] = value
		}
	}
	node.DriverInfo = info
	extra := map[string]any{}
	for key, value := range node.Extra {
		if key != RecordKey {
			extra[key] = value
		}
	}
	node.Extra = extra
	return node
}

func (r *run) recoverRecord(ctx context.Context, node baremetal.Node, rec record) error {
	name := baremetal.NodeName(node)
	if r.opts.CheckMode {
		r.change("undo the killed run %s on node %s: undeploy it, restore driver_info %s, release %s",
			rec.Run, name, describePair(previousPair(rec)), rec.Reservation)
		r.result.Changed = true // as a real run reports it
		r.result.Diff.After[name] = previousPair(rec)
		return nil
	}
	saved := r.result.Node
	r.result.Node = name
	err := r.undo(ctx, node.UUID, rec)
	r.result.Node = saved
	r.result.Restored = false // Restored speaks of this run's node
	if err != nil {
		return err
	}
	r.result.Recovered = append(r.result.Recovered, name)
	r.result.Changed = true
	return nil
}

func (r *run) recoverReservation(ctx context.Context, node baremetal.Node) error {
	id, found, err := r.reserver.Leftover(ctx, node, leftoverAge)
	if err != nil || !found {
		return err
	}
	name := baremetal.NodeName(node)
	if node.ProvisionState != baremetal.StateAvailable {
		// No record: this module never deployed it. Someone else's deploy is not undone.
		r.change("left alone %s on node %s: no run recorded it and the node is %s", id, name, describeState(node))
		return nil
	}
	if r.opts.CheckMode {
		r.change("release %s left on node %s by a killed run", id, name)
		r.result.Changed = true
		return nil
	}
	if err := r.reserver.Release(ctx, node, id); err != nil {
		return err
	}
	r.change("released %s left on node %s by a killed run", id, name)
	r.result.Recovered = append(r.result.Recovered, name)
	r.result.Changed = true
	return nil
}
