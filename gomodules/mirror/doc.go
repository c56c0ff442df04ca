// Package mirror copies container images between registries with
// go-containerregistry's remote package: each distinct image once, several
// at a time, skipping an image whose target already holds the same digest.
//
// Mirror takes Jobs (source and target imageref.References) and returns a
// Report of what was copied, skipped and failed; one failing image never
// stops the others. The layers are:
//
//   - imageref: parsing and rewriting references (no network);
//   - registryaccess: how to reach each registry (credentials, TLS,
//     retries), why a request failed, and Resolve, the digest a tag points
//     at (image_manifest's pin_digests);
//   - mirror (this package): which images to copy, in what order, what
//     happened;
//   - go-containerregistry's remote.Puller and remote.Pusher: the transfer.
//
// How a copy works, for one job:
//
//  1. The source digest is read with a HEAD (or from the reference when it is
//     pinned) while the target is asked for its own: a HEAD of the target's tag
//     (for a reference with only a digest, the tag imageref.DigestTag,
//     "sha256-<hex>", which the copy sets). With platforms selected, the
//     source index is fetched instead and the manifests of other platforms are
//     removed, which gives a new index digest.
//  2. The same digest at both ends means the job is skipped, with nothing
//     fetched or written: a run where everything is there costs one round
//     trip per image.
//  3. Otherwise, once one of the WithJobs copy slots is free, every blob of
//     every image is written (up to 4 at a time per job): a blob that this run
//     already wrote to another repository of the target registry, or is
//     writing, is mounted from there (one POST, no bytes, no HEAD before it);
//     one it already wrote, or is writing, to the same repository costs
//     nothing; the others are offered as a mount from the target repository
//     itself (one POST: the registry links a blob it holds there, else opens
//     the upload session) and, when missing, uploaded with one monolithic
//     PUT; for an image that replaces another at its tag they are asked for
//     with a HEAD first instead. These blob writes are this package's own
//     requests (blobWriters), which save a third of a first run's requests
//     over remote.Pusher's HEAD, POST, PATCH and PUT per blob; reads, manifests
//     and authentication stay go-containerregistry's. Then each image's
//     manifest is put, then the tag, and a final HEAD checks that the target
//     has the expected digest (ErrDigestMismatch otherwise).
//
// Up to 4×WithJobs images are checked at once. The version check a registry
// client sends before its first request to every repository is answered once
// per registry and scheme for the run. Report.Stats counts the requests by
// kind and the time they took; each Result has its own time.
//
// Credentials come from WithAuth (per registry) first, then the keychain
// (WithAccess(registryaccess.WithKeychain(...)); by default the user's Docker
// config and its credential helpers). Requests that fail with 408, 429 or 5xx are retried with
// exponential back-off (WithRetry). A registry that could not be connected
// to is not tried again in the same run: its other images fail at once.
// Errors carry a Reason (auth, not found, network, tls, ...) for the report.
package mirror
