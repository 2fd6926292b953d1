package service

import (
	"context"
	"errors"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

// PurposeInput creates a purpose. For a PATCH every field is optional; nil
// means "leave as is".
type PurposeInput struct {
	Key                 string            `json:"key"`
	Name                *string           `json:"name"`
	Description         *string           `json:"description"`
	Category            *consent.Category `json:"category"`
	Basis               *consent.Basis    `json:"basis"`
	Channels            []consent.Channel `json:"channels"`
	DoubleOptIn         *bool             `json:"double_opt_in"`
	ConsentLifetimeDays *int              `json:"consent_lifetime_days"`
	KeepMessageBodies   *bool             `json:"keep_message_bodies"`
}

// PurposeView is a purpose as the API shows it.
type PurposeView struct {
	Key                 string            `json:"key"`
	Name                string            `json:"name"`
	Description         string            `json:"description"`
	NoticeVersion       int               `json:"notice_version"`
	Category            consent.Category  `json:"category"`
	Basis               consent.Basis     `json:"basis"`
	Channels            []consent.Channel `json:"channels"`
	DoubleOptIn         bool              `json:"double_opt_in"`
	ConsentLifetimeDays int               `json:"consent_lifetime_days"`
	KeepMessageBodies   bool              `json:"keep_message_bodies"`
}

func viewPurpose(p *consent.Purpose) PurposeView {
	return PurposeView{Key: p.Key, Name: p.Name, Description: p.Description, NoticeVersion: p.NoticeVersion,
		Category: p.Category, Basis: p.Basis, Channels: p.Channels, DoubleOptIn: p.DoubleOptIn,
		ConsentLifetimeDays: int(p.Lifetime / (24 * time.Hour)), KeepMessageBodies: p.KeepBodies}
}

// apply copies the set fields of in onto p.
func (in *PurposeInput) apply(p *consent.Purpose) {
	if in.Name != nil {
		p.Name = *in.Name
	}
	if in.Description != nil && *in.Description != p.Description {
		p.Description = *in.Description
		// The notice text changed: consents given from now on record the
		// new version, earlier ones keep pointing at what people saw.
		p.NoticeVersion++
	}
	if in.Category != nil {
		p.Category = *in.Category
	}
	if in.Basis != nil {
		p.Basis = *in.Basis
	}
	if in.Channels != nil {
		p.Channels = append([]consent.Channel(nil), in.Channels...)
	}
	if in.DoubleOptIn != nil {
		p.DoubleOptIn = *in.DoubleOptIn
	}
	if in.ConsentLifetimeDays != nil {
		p.Lifetime = time.Duration(*in.ConsentLifetimeDays) * 24 * time.Hour
	}
	if in.KeepMessageBodies != nil {
		p.KeepBodies = *in.KeepMessageBodies
	}
}

// purposeErr maps domain validation errors to stable codes.
func purposeErr(err error) error {
	if errors.Is(err, consent.ErrUnknownChannel) {
		return apperr.Wrap(err, apperr.UnknownChannel, "%v", err)
	}
	return apperr.Wrap(err, apperr.InvalidPurpose, "%v", err)
}

// CreatePurpose creates a purpose.
func (s *Service) CreatePurpose(ctx context.Context, pr auth.Principal, in PurposeInput) (PurposeView, error) {
	if err := authorize(pr, auth.PurposesWrite); err != nil {
		return PurposeView{}, err
	}
	if in.ConsentLifetimeDays != nil && (*in.ConsentLifetimeDays < 0 || *in.ConsentLifetimeDays > 36500) {
		return PurposeView{}, apperr.New(apperr.InvalidPurpose, "consent_lifetime_days must be 0-36500")
	}
	p := &consent.Purpose{Key: in.Key, NoticeVersion: 1}
	in.Description = nonNil(in.Description)
	in.apply(p)
	p.NoticeVersion = 1
	if err := p.Validate(); err != nil {
		return PurposeView{}, purposeErr(err)
	}
	err := s.commit.do(ctx, func(tx store.Tx) error {
		return tx.CreatePurpose(ctx, pr.TenantID, p, s.now())
	}, func() { s.index.PutPurpose(pr.TenantID, p) })
	if err != nil {
		return PurposeView{}, storeErr(err, "purpose")
	}
	return viewPurpose(p), nil
}

func nonNil(s *string) *string {
	if s == nil {
		return new(string)
	}
	return s
}

// UpdatePurpose changes the given fields of a purpose.
func (s *Service) UpdatePurpose(ctx context.Context, pr auth.Principal, key string, in PurposeInput) (PurposeView, error) {
	if err := authorize(pr, auth.PurposesWrite); err != nil {
		return PurposeView{}, err
	}
	if in.Key != "" && in.Key != key {
		return PurposeView{}, apperr.New(apperr.InvalidPurpose, "a purpose's key cannot change")
	}
	if in.ConsentLifetimeDays != nil && (*in.ConsentLifetimeDays < 0 || *in.ConsentLifetimeDays > 36500) {
		return PurposeView{}, apperr.New(apperr.InvalidPurpose, "consent_lifetime_days must be 0-36500")
	}
	var p *consent.Purpose
	err := s.commit.do(ctx, func(tx store.Tx) error {
		var err error
		if p, err = tx.GetPurpose(ctx, pr.TenantID, key); err != nil {
			return storeErr(err, "purpose")
		}
		in.apply(p)
		if err := p.Validate(); err != nil {
			return purposeErr(err)
		}
		return tx.UpdatePurpose(ctx, pr.TenantID, p, s.now())
	}, func() { s.index.PutPurpose(pr.TenantID, p) })
	if err != nil {
		return PurposeView{}, storeErr(err, "purpose")
	}
	return viewPurpose(p), nil
}

// GetPurpose returns one purpose.
func (s *Service) GetPurpose(ctx context.Context, pr auth.Principal, key string) (PurposeView, error) {
	if err := authorize(pr, auth.PurposesRead); err != nil {
		return PurposeView{}, err
	}
	var p *consent.Purpose
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		p, err = tx.GetPurpose(ctx, pr.TenantID, key)
		return err
	})
	if err != nil {
		return PurposeView{}, storeErr(err, "purpose")
	}
	return viewPurpose(p), nil
}

// ListPurposes returns the tenant's purposes ordered by key.
func (s *Service) ListPurposes(ctx context.Context, pr auth.Principal) ([]PurposeView, error) {
	if err := authorize(pr, auth.PurposesRead); err != nil {
		return nil, err
	}
	var ps []*consent.Purpose
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		ps, err = tx.ListPurposes(ctx, pr.TenantID)
		return err
	})
	if err != nil {
		return nil, storeErr(err, "purpose")
	}
	out := make([]PurposeView, 0, len(ps))
	for _, p := range ps {
		out = append(out, viewPurpose(p))
	}
	return out, nil
}
