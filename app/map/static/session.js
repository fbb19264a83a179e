/* Signing in and out, shared by /map and /console. The token is kept in this tab only
 * (sessionStorage) and sent only in the Authorization header; each page adds what signing in and out
 * mean for it. */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const ROLE_NAMES = { admin: "Admin", coordinator: "Coordinator", lrf_viewer: "Forum viewer" };

  window.nvrSession = {
    /* Hand each token typed into the sign-in form to `onToken` (kept for this tab first); the
       sign-out button calls `signOut`. */
    listen(tokenKey, onToken, signOut) {
      $("signin").addEventListener("submit", (event) => {
        event.preventDefault();
        const token = $("token").value.trim();
        $("token").value = "";
        if (!token) return;
        sessionStorage.setItem(tokenKey, token);
        onToken(token);
      });
      $("signout").addEventListener("click", () => signOut("Signed out."));
    },

    /* The header as it is before anyone signs in. */
    showSignedOut() {
      $("signin").hidden = false;
      $("session").hidden = true;
      document.body.dataset.state = "signed-out";
    },

    /* Who the token belongs to (the page's `call` of /api/v1/map/me), with the header saying so; null
       when it could not sign in, after `failed` was told why. */
    async whoAmI(call, failed) {
      document.body.dataset.state = "loading";
      let me;
      try {
        me = await call("/api/v1/map/me");
      } catch (error) {
        failed("Could not sign in: " + error.message);
        return null;
      }
      $("signin").hidden = true;
      $("session").hidden = false;
      $("who").textContent = ROLE_NAMES[me.role] || me.role;
      return me;
    },
  };
})();
