package hub

import "github.com/wharfhub/wharf/server/textcheck"

// The kinds of hub text, as the one text validator checks them. Every
// string a caller stores through the hub is checked against one of these;
// names (repositories, organizations, users) have patterns of their own
// that admit no other text.
var (
	descriptionText = textcheck.Kind{Name: "description", Max: maxDescription}
	readmeText      = textcheck.Kind{Name: "README", Max: MaxReadme, Multiline: true}
	commentText     = textcheck.Kind{Name: "comment", Max: MaxComment, Multiline: true}

	webhookNameText   = textcheck.Kind{Name: "webhook name", Max: 100}
	webhookURLText    = textcheck.Kind{Name: "webhook URL", Max: 2048}
	webhookSecretText = textcheck.Kind{Name: "webhook secret", Max: 256}

	signingKeyNameText   = textcheck.Kind{Name: "key name", Max: 100}
	publicKeyText        = textcheck.Kind{Name: "public key", Max: 16 << 10, Multiline: true}
	tagPatternText       = textcheck.Kind{Name: "tag pattern", Max: 128}
	retentionKeepText    = textcheck.Kind{Name: "rule's keep", Max: 32}
	robotDescriptionText = textcheck.Kind{Name: "robot description", Max: 500}

	callbackDescriptionText = textcheck.Kind{Name: "callback description", Max: 1000, Multiline: true}
	callbackContextText     = textcheck.Kind{Name: "callback context", Max: 200}
	callbackTargetURLText   = textcheck.Kind{Name: "callback target_url", Max: 2048}

	searchText = textcheck.Kind{Name: "search text", Max: 200}

	auditFilterText = textcheck.Kind{Name: "audit filter", Max: 200}
)

// checkText turns a refusal of the text validator into an input error.
func checkText(k textcheck.Kind, v string) error {
	if err := k.Check(v); err != nil {
		return invalidErr(err)
	}
	return nil
}

// textField is a value with the kind of text it must be.
type textField struct {
	kind textcheck.Kind
	v    string
}

// checkTexts checks fields in order and reports the first refusal.
func checkTexts(fs ...textField) error {
	for _, f := range fs {
		if err := checkText(f.kind, f.v); err != nil {
			return err
		}
	}
	return nil
}
