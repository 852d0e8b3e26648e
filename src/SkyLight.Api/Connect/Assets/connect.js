// The hosted connect page: renders the state the service sends (GET state, then its event stream, or polling when the
// stream is not available), and posts the user's actions with the page's CSRF token. No framework, no third party.
(() => {
  'use strict';
  const body = document.body;
  if (body.dataset.screen === 'invalid') {
    return;   // a link that no longer works: the server rendered everything there is
  }
  const base = location.pathname.replace(/\/+$/, '');
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const texts = JSON.parse(document.getElementById('texts').textContent);
  const $ = (id) => document.getElementById(id);
  let current = null;
  let countdown = null;
  let resendTimer = null;
  let redirect = null;
  let polling = null;
  let busy = false;

  const format = (template, value) => template.replace('{0}', value);
  const clock = (seconds) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;

  function show(screen) {
    for (const section of document.querySelectorAll('section[id^="screen-"]')) {
      section.hidden = section.id !== `screen-${screen}`;
    }
    body.dataset.screen = screen;
  }

  function notice(key) {
    const message = $('message');
    message.textContent = key ? (texts[key] || texts.failed) : '';
    message.hidden = !key;
  }

  function link(element, url) {
    if (url) {
      element.href = url;
      element.hidden = false;
    } else {
      element.removeAttribute('href');
      element.hidden = true;
    }
  }

  function startCountdown(seconds) {
    clearInterval(countdown);
    const until = Date.now() + seconds * 1000;
    const tick = () => {
      const left = Math.max(0, Math.round((until - Date.now()) / 1000));
      $('countdown').textContent = format(texts.countdown, clock(left));
      if (left === 0) {
        clearInterval(countdown);
        refresh();   // the server ends the attempt and says so
      }
    };
    tick();
    countdown = setInterval(tick, 1000);
  }

  function startResendCooldown(seconds) {
    clearInterval(resendTimer);
    const button = $('resend');
    const until = Date.now() + seconds * 1000;
    const tick = () => {
      const left = Math.max(0, Math.round((until - Date.now()) / 1000));
      button.disabled = left > 0;
      button.textContent = left > 0 ? format(texts.resend_in, left) : texts.resend;
      if (left === 0) {
        clearInterval(resendTimer);
      }
    };
    tick();
    resendTimer = setInterval(tick, 1000);
  }

  function render(state) {
    current = state;
    notice(state.notice);
    link($('cancel'), state.screen === 'success' ? null : state.cancel_url);
    if (state.screen !== 'qr') {
      clearInterval(countdown);
    }
    switch (state.screen) {
      case 'loading':
        startQr();
        break;
      case 'qr':
        if (state.qr_image && $('qr-image').getAttribute('src') !== state.qr_image) {
          $('qr-image').src = state.qr_image;
        }
        startCountdown(state.expires_in_seconds || 0);
        break;
      case 'code':
        $('round').textContent = format(texts.round, state.round || 1);
        startResendCooldown(state.resend_in_seconds || 0);
        break;
      case 'success':
        link($('continue'), state.redirect_url);
        $('redirecting').hidden = !state.redirect_url;
        if (state.redirect_url && !redirect) {
          redirect = setTimeout(() => location.assign(state.redirect_url), 3000);
        }
        stopFollowing();
        break;
      case 'invalid':
        $('invalid-heading').textContent = texts[state.notice] || texts.link_unknown;
        link($('invalid-continue'), state.redirect_url);
        $('message').hidden = true;
        stopFollowing();
        break;
      default:
        break;
    }
    show(state.screen);
  }

  async function read(response) {
    try {
      const state = await response.json();
      if (state && state.screen) {
        return state;
      }
      if (response.status === 400 || response.status === 403) {
        return { ...(current || { screen: 'error' }), notice: 'reload' };
      }
    } catch {
      // not JSON: a proxy's page, a dropped connection
    }
    return { ...(current || { screen: 'error' }), notice: 'unavailable' };
  }

  async function post(path, data) {
    if (busy) {
      return;
    }
    busy = true;
    for (const button of document.querySelectorAll('button')) button.setAttribute('aria-busy', 'true');
    try {
      const response = await fetch(base + path, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: JSON.stringify(data || {}),
      });
      render(await read(response));
    } catch {
      render({ ...(current || { screen: 'error' }), notice: 'unavailable' });
    } finally {
      busy = false;
      for (const button of document.querySelectorAll('button')) button.removeAttribute('aria-busy');
    }
  }

  // news from the stream or a poll carries no notice: the message the user's own last action got stays on its screen
  function settle(state) {
    if (current && !state.notice && state.screen === current.screen) {
      state.notice = current.notice;
    }
    render(state);
  }

  async function refresh() {
    try {
      settle(await read(await fetch(`${base}/state`, { credentials: 'same-origin', cache: 'no-store' })));
    } catch {
      // the next event or poll tries again
    }
  }

  function startQr() {
    post('/qr');
  }

  let stream = null;
  function follow() {
    if (!window.EventSource) {
      poll();
      return;
    }
    stream = new EventSource(`${base}/events`);
    stream.addEventListener('state', (event) => settle(JSON.parse(event.data)));
    stream.addEventListener('open', () => {
      clearInterval(polling);
      polling = null;
    });
    stream.addEventListener('error', () => {
      if (stream.readyState === EventSource.CLOSED) {
        stream = null;
      }
      poll();   // until the stream is back (EventSource reconnects by itself)
    });
  }

  function poll() {
    if (!polling) {
      polling = setInterval(refresh, 3000);
    }
  }

  function stopFollowing() {
    if (stream) {
      stream.close();
      stream = null;
    }
    clearInterval(polling);
    polling = null;
  }

  $('new-code').addEventListener('click', startQr);
  $('retry').addEventListener('click', () => (body.dataset.type === 'instagram' ? render({ ...current, screen: 'login', notice: null }) : startQr()));
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const password = $('password');
    const credentials = { username: $('username').value, password: password.value };
    password.value = '';   // not kept in the page after it was sent
    post('/instagram/login', credentials);
  });
  $('code-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = $('code');
    const value = code.value;
    code.value = '';
    post('/instagram/code', { code: value });
  });
  $('resend').addEventListener('click', () => post('/instagram/resend'));

  refresh();
  follow();
})();
