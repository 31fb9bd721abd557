// Package filesystem is the blob store on a local directory.
//
// Layout under the root directory:
//
//	blobs/<algorithm>/<first two hex chars>/<hex>   committed blobs
//	uploads/<upload id>                             upload data in progress
//
// A blob reaches its path only by rename from a fsynced upload file, and the
// directory is fsynced after the rename, so a crash leaves it absent or whole.
//
// An upload is one file, appended to in place; an append first truncates
// whatever a failed request left past its offset, and truncates its own
// bytes again if it fails. The commit truncates the file to the committed
// size, fsyncs it, renames it into blobs/ and fsyncs the directory, and
// the parents of any directory it had to make; a blob already at its path
// is kept and the upload removed. On Linux, appends ask the kernel to
// start writeback every 32 MiB (not an fsync), so that the one fsync at
// commit has little left to flush.
package filesystem
