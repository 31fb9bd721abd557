package deployhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// This file reports a run's outcome to the push's callback_url.

// callback is the body POSTed to callback_url.
type callback struct {
	State       string `json:"state"`
	Description string `json:"description"`
	Context     string `json:"context"`
	TargetURL   string `json:"target_url"`
}

// report sends the outcome to j's callback_url in the background.
func (h *Handler) report(j job, state, description string) {
	log := h.log.With("delivery", j.delivery, "repo", j.repo, "tag", j.tag, "state", state)
	if j.callbackURL == "" {
		log.Debug("no callback_url")
		return
	}
	u, err := url.Parse(j.callbackURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		log.Warn("callback not sent: callback_url is not an http or https URL", "callback_url", j.callbackURL)
		return
	}
	body, err := json.Marshal(callback{State: state, Description: description, Context: CallbackContext})
	if err != nil {
		log.Error("callback not sent", "err", err)
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.sendCallback(log, u.String(), body)
	}()
}

func (h *Handler) sendCallback(log *slog.Logger, target string, body []byte) {
	backoff := 500 * time.Millisecond
	for try := 1; ; try++ {
		err := h.postOnce(target, body)
		if err == nil {
			log.Info("callback sent")
			return
		}
		var perm permanent
		if errors.As(err, &perm) || try == callbackTries {
			log.Warn("callback failed", "tries", try, "err", err)
			return
		}
		log.Debug("callback failed, retrying", "try", try, "err", err)
		time.Sleep(backoff)
		backoff *= 2
	}
}

// permanent marks a callback error not worth retrying.
type permanent struct{ error }

func (h *Handler) postOnce(target string, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), callbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return permanent{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wharf-deploy-hook")
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("callback answered %s", resp.Status)
	default:
		return permanent{fmt.Errorf("callback answered %s", resp.Status)}
	}
}
