/* Proof-of-work for public forms (see guanxi/core/captcha.py): find the number n for which
   SHA-256(salt + n) equals the challenge, then put the signed solution in the form. */
(function () {
  async function sha256hex(text) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest)).map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  async function solve(ch) {
    for (let n = 0; n <= ch.maxNumber; n++) {
      if ((await sha256hex(ch.salt + n)) === ch.challenge) return n;
    }
    return null;
  }
  document.querySelectorAll("form[data-altcha]").forEach(async (form) => {
    const ch = JSON.parse(form.dataset.altcha);
    const button = form.querySelector("button[type=submit]");
    const status = form.querySelector("[data-altcha-status]");
    if (button) button.disabled = true;
    const number = await solve(ch);
    if (number === null) return;
    form.querySelector("input[name=altcha]").value = btoa(JSON.stringify({
      algorithm: ch.algorithm, challenge: ch.challenge, number: number, salt: ch.salt, signature: ch.signature,
    }));
    if (button) button.disabled = false;
    if (status) status.hidden = true;
  });
})();
