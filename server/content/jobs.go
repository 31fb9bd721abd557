package content

import (
	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/artifact"
)

// jobsFor is the work that storing m under tags queues: an image is
// scanned (when scanning is on); a signature or an attestation, attached
// by its subject or by cosign's tag for it, has its subject's signatures
// verified again.
func (s *base) jobsFor(m *models.Manifest, tags ...string) []models.JobRequest {
	var jobs []models.JobRequest
	k := artifact.Kind(m.Kind)
	if k == artifact.Image && s.opts.Scan {
		jobs = append(jobs, models.JobRequest{Kind: models.JobScan, Digest: m.Digest})
	}
	if k != artifact.Signature && k != artifact.Attestation {
		return jobs
	}
	seen := map[string]bool{}
	add := func(subject string) {
		if subject != "" && !seen[subject] {
			seen[subject] = true
			jobs = append(jobs, models.JobRequest{Kind: models.JobVerify, Digest: subject})
		}
	}
	add(m.SubjectDigest)
	for _, t := range tags {
		if subject, _, ok := artifact.CosignSubject(t); ok {
			add(subject)
		}
	}
	return jobs
}
