package service

import (
	"context"
	"errors"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// Users sign in to the web UI (sessions.go). A user's e-mail address is
// personal data of an employee: it is stored sealed with a key derived from
// the tenant's encryption key, and found by a blind index (HMAC with the
// tenant's index key, kind "user-email"), exactly like a contact's
// identifiers. The password is hashed with argon2id (auth.HashPassword).

// UserInput creates a user.
type UserInput struct {
	Email    string `json:"email"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

// UserView is a user as the API shows it: never the password hash. The
// e-mail address is shown to those who manage users (they need to know
// whom an account belongs to); each listing is audited.
type UserView struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

const userEmailKind = "user-email"

func userEmailAAD(tenantID, userID string) []byte {
	return []byte("consentgate/user-email/v1|" + tenantID + "|" + userID)
}

func (s *Service) userKeys(ctx context.Context, tenantID string) (*tenantKeys, vault.Key, error) {
	tk, err := s.tenantKeys(ctx, tenantID)
	if err != nil {
		return nil, vault.Key{}, err
	}
	return tk, deriveKey(tk.keys.Enc, "consentgate/user-email/v1"), nil
}

// CreateUser creates a web UI user in the caller's tenant, with a role no
// more powerful than the caller's.
func (s *Service) CreateUser(ctx context.Context, pr auth.Principal, in UserInput) (UserView, error) {
	if err := authorize(pr, auth.UsersManage); err != nil {
		return UserView{}, err
	}
	role, err := auth.ParseRole(in.Role)
	if err != nil {
		return UserView{}, apperr.Wrap(err, apperr.InvalidRequest, "%v", err)
	}
	if !pr.Covers(auth.Principal{Role: role}) {
		return UserView{}, errTooPowerful("create a user")
	}
	email, err := s.norm.Normalize(consent.KindEmail, in.Email)
	if err != nil {
		return UserView{}, apperr.New(apperr.InvalidIdentifier, "email: %v", err)
	}
	if err := auth.CheckPassword(in.Password); err != nil {
		return UserView{}, apperr.New(apperr.InvalidRequest, "password: %v", err)
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return UserView{}, err
	}
	tk, ek, err := s.userKeys(ctx, pr.TenantID)
	if err != nil {
		return UserView{}, err
	}
	u := &store.User{ID: ulid.Make().String(), TenantID: pr.TenantID, Role: string(role), PasswordHash: hash, CreatedAt: s.now()}
	forms := tk.forms(userEmailKind, email)
	u.EmailIndex = forms.Stored()
	if u.EmailSealed, err = vault.Seal(ek, []byte(email), userEmailAAD(u.TenantID, u.ID)); err != nil {
		return UserView{}, err
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.UserCreate, objectType: "user", objectID: u.ID,
		fields: []string{"email", "role", "password"}})
	if err != nil {
		return UserView{}, err
	}
	err = s.commit.do(ctx, func(tx store.Tx) error {
		// While the index key rotates, the address may be stored in the
		// other form, where the unique index does not see it.
		if tk.chain.Rotating() {
			if err := tx.LockBlindIndex(ctx, pr.TenantID, claimKey(tk, userEmailKind, forms)); err != nil {
				return err
			}
		}
		_, err := firstFound(forms.Lookups()[1:], func(form []byte) (*store.User, error) {
			return tx.GetUserByEmail(ctx, pr.TenantID, form)
		})
		if err == nil {
			return store.ErrConflict
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	}, nil)
	if errors.Is(err, store.ErrConflict) {
		return UserView{}, apperr.Wrap(err, apperr.Conflict, "a user with this e-mail address already exists")
	}
	if err != nil {
		return UserView{}, storeErr(err, "user")
	}
	return UserView{ID: u.ID, Email: email, Role: u.Role, CreatedAt: u.CreatedAt}, nil
}

// ListUsers returns the tenant's users.
func (s *Service) ListUsers(ctx context.Context, pr auth.Principal) ([]UserView, error) {
	if err := authorize(pr, auth.UsersManage); err != nil {
		return nil, err
	}
	_, ek, err := s.userKeys(ctx, pr.TenantID)
	if err != nil {
		return nil, err
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.UserList, objectType: "user", fields: []string{"email", "role"}})
	if err != nil {
		return nil, err
	}
	var us []*store.User
	err = s.commit.do(ctx, func(tx store.Tx) (err error) {
		if us, err = tx.ListUsers(ctx, pr.TenantID); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	}, nil)
	if err != nil {
		return nil, storeErr(err, "user")
	}
	out := make([]UserView, len(us))
	for i, u := range us {
		out[i] = UserView{ID: u.ID, Role: u.Role, CreatedAt: u.CreatedAt, Email: Unreadable}
		if pt, err := vault.Open(ek, u.EmailSealed, userEmailAAD(u.TenantID, u.ID)); err == nil {
			out[i].Email = string(pt)
		} else {
			s.log.ErrorContext(ctx, "user e-mail unreadable", "tenant", u.TenantID, "user", u.ID)
		}
	}
	return out, nil
}

// DeleteUser deletes a user, and with it the sealed e-mail address; audit
// events keep only the user id. A user more powerful than the caller
// cannot be deleted by it.
func (s *Service) DeleteUser(ctx context.Context, pr auth.Principal, id string) error {
	if err := authorize(pr, auth.UsersManage); err != nil {
		return err
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.UserDelete, objectType: "user", objectID: id, fields: []string{"email", "role", "password"}})
	if err != nil {
		return err
	}
	err = s.commit.do(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(ctx, pr.TenantID, id)
		if err != nil {
			return err
		}
		if !pr.Covers(auth.Principal{Role: auth.Role(u.Role)}) {
			return errTooPowerful("delete a user")
		}
		// Its sessions end with it (the schema would cascade; saying so
		// here keeps the rule in the service, for every store).
		if _, err := tx.DeleteUserSessions(ctx, pr.TenantID, id); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, pr.TenantID, id); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	}, nil)
	return storeErr(err, "user")
}
