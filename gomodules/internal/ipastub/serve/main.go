// Command serve runs the IPA STUB (package ipastub) until SIGTERM or SIGINT:
// it plays the agent of every node whose PXE config appears in the TFTP
// root of the local Ironic (scripts/ironic.sh). Not the real IPA.
//
//	serve -tftp-root DIR -state DIR [-heartbeat 1s] [-no-callback] [-fail-step NAME [-fail-message TEXT]]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/imageops/cloud/gomodules/internal/ipastub"
)

func main() {
	var cfg ipastub.Config
	flag.StringVar(&cfg.TFTPRoot, "tftp-root", os.Getenv("IMAGEOPS_IRONIC_TFTP_ROOT"), "Ironic's tftp_root (default $IMAGEOPS_IRONIC_TFTP_ROOT)")
	flag.StringVar(&cfg.StateDir, "state", "", "where <mac>.boot.json, <mac>.disk and <mac>.commands.json go")
	flag.DurationVar(&cfg.HeartbeatInterval, "heartbeat", ipastub.DefaultHeartbeatInterval, "heartbeat interval")
	flag.BoolVar(&cfg.NoCallback, "no-callback", false, "boot but never look up nor heartbeat")
	flag.StringVar(&cfg.FailStep, "fail-step", "", "command or in-band step answered FAILED (write_image, get_deploy_steps, ...)")
	flag.StringVar(&cfg.FailMessage, "fail-message", "", "the error of -fail-step")
	flag.Parse()
	cfg.Logger = log.New(os.Stderr, "ipastub: ", log.LstdFlags|log.Lmicroseconds)
	stub, err := ipastub.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	cfg.Logger.Printf("watching %s (state %s, no-callback %v, fail-step %q)", cfg.TFTPRoot, cfg.StateDir, cfg.NoCallback, cfg.FailStep)
	if err := stub.Run(ctx); err != nil {
		cfg.Logger.Print(err)
		os.Exit(1)
	}
}
