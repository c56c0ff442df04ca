// Package mirror copies container images between registries with
// go-containerregistry's remote package: each distinct image once, several
// at a time, skipping an image whose target already holds the same digest.
//
// Mirror takes Jobs (source and target imageref.References) and returns a
// Report of what was copied, skipped and failed; one failing image never
// stops the others. Resolve finds the digest a tag points at, with the same
// registry options. The layers are:
//
//   - imageref: parsing and rewriting references (no network);
//   - mirror (this package): which images to copy, in what order, how to
//     reach each registry (credentials, TLS, retries), what happened;
//   - go-containerregistry's remote.Puller and remote.Pusher: the transfer.
//
// How a copy works, for one job:
//
//  1. The source digest is read with a HEAD (or from the reference when it is
//     pinned). With platforms selected, the source index is fetched and the
//     manifests of other platforms are removed, which gives a new index digest.
//  2. A HEAD of the target's tag (for a reference with only a digest, the
//     tag imageref.DigestTag, "sha256-<hex>", which the copy sets): the
//     same digest means the job is skipped, with nothing fetched or written.
//  3. Otherwise the manifest or index and every blob it needs are pushed
//     (blobs the target already has are not uploaded again, and a layer that
//     this run already pushed to another repository of the same registry is
//     mounted from there), the target's tag is set, and a final HEAD checks
//     that the target has the expected digest (ErrDigestMismatch otherwise).
//
// Credentials come from WithAuth (per registry) first, then the keychain
// (WithKeychain; by default the user's Docker config and its credential
// helpers). Requests that fail with 408, 429 or 5xx are retried with
// exponential back-off (WithRetry). A registry that could not be connected
// to is not tried again in the same run: its other images fail at once.
// Errors carry a Reason (auth, not found, network, tls, ...) for the report.
package mirror
