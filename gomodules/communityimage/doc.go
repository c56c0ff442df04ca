// Package communityimage is the adapter of the imageops.cloud.community_image
// and imageops.cloud.community_image_batch modules: their argument specs,
// and the RunFuncs that decode the options, connect to the cloud and call
// package ingest, which does the work (download, checks, conversion, upload
// through package glance).
package communityimage
