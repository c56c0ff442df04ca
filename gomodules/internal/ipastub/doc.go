// Package ipastub is a STUB of the Ironic Python Agent (IPA): it plays the
// agent that would run in the deploy ramdisk of a bare metal node, for tests
// against a real Ironic (scripts/ironic.sh) where no machine can boot. It is
// not IPA and writes no real disk.
//
// What it does, as IPA would:
//
//   - "Boots" a node when Ironic's pxe boot interface writes the node's PXE
//     config into the TFTP root (grub.cfg-01-<mac> or pxelinux.cfg/01-<mac>):
//     it reads the deploy kernel and ramdisk the config names (the files
//     Ironic downloaded from Glance) and records their SHA-256 and the
//     ipa-api-url in <state>/<mac>.boot.json, so a test can tell which images
//     the node booted. When the config goes away (Ironic cleaned the ramdisk
//     up), the agent "powers off" and stops calling Ironic.
//   - Looks the node up (GET /v1/lookup?addresses=<mac>), keeps the agent
//     token Ironic hands out, and heartbeats (POST /v1/heartbeat/<uuid> with
//     its callback_url, agent_version and agent_token).
//   - Serves IPA's command API on 127.0.0.1 (POST /v1/commands/?wait=,
//     GET /v1/commands/, GET /v1/commands/<id>), checking agent_token, and
//     answers the commands Ironic's direct deploy and cleaning send:
//     deploy.get_deploy_steps, deploy.execute_deploy_step (write_image:
//     downloads image_info.urls[0] from loopback, verifies os_hash_value or
//     checksum, writes <state>/<mac>.disk; any other step succeeds),
//     clean.get_clean_steps, clean.execute_clean_step,
//     standby.get_partition_uuids, image.install_bootloader, standby.power_off,
//     standby.sync, standby.reboot, log.collect_system_logs. Results have
//     IPA's shape (command_name, command_status RUNNING/SUCCEEDED/FAILED,
//     command_error {type, code, message, details}, command_result).
//
// Failure switches (Config): NoCallback boots but never looks up nor
// heartbeats (Ironic waits in "wait call-back" until its timeout); FailStep
// answers the named command or in-band step FAILED with FailMessage.
package ipastub
