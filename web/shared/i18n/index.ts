// i18n for the pages: zh-CN by default, English switchable; the choice is kept in the
// browser (localStorage) and set on <html lang> for screen readers. Element Plus gets the
// matching locale through ElConfigProvider (see PageShell.vue).
import enElement from 'element-plus/es/locale/lang/en';
import zhCnElement from 'element-plus/es/locale/lang/zh-cn';
import { computed } from 'vue';
import { createI18n } from 'vue-i18n';
import type { ApiError } from '../api';
import dayEn from './day.en';
import dayZhCN from './day.zh-CN';
import en from './en';
import opsEn from './ops.en';
import opsZhCN from './ops.zh-CN';
import supervisorEn from './supervisor.en';
import supervisorZhCN from './supervisor.zh-CN';
import zhCN from './zh-CN';

export type Locale = 'zh-CN' | 'en';
const STORAGE_KEY = 'rexian.locale';

function initialLocale(): Locale {
  return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh-CN';
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages: {
    'zh-CN': { ...zhCN, ...dayZhCN, ...supervisorZhCN, ...opsZhCN },
    en: { ...en, ...dayEn, ...supervisorEn, ...opsEn },
  },
});
document.documentElement.lang = i18n.global.locale.value;

export const elementLocale = computed(() => (i18n.global.locale.value === 'en' ? enElement : zhCnElement));

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  localStorage.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
}

export function toggleLocale(): void {
  setLocale(i18n.global.locale.value === 'en' ? 'zh-CN' : 'en');
}

/** An API error in the page's language, from its code (and details, such as minutes left). */
export function errorText(err: ApiError): string {
  const t = i18n.global.t;
  switch (err.code) {
    case 'REXIAN_SIGN_IN_LOCKED': {
      const seconds = Number(err.details.retryAfterSeconds ?? 60);
      return t('errors.REXIAN_SIGN_IN_LOCKED', { minutes: Math.max(1, Math.ceil(seconds / 60)) });
    }
    case 'REXIAN_BAD_REQUEST': {
      // The sign-in form's fields have their own words; any other field is named.
      const field = typeof err.details.field === 'string' ? err.details.field : '';
      if (!field || field === 'name' || field === 'password') return t('errors.REXIAN_BAD_REQUEST');
      return t('errors.REXIAN_BAD_FIELD', { field });
    }
    case 'REXIAN_AGENT_STATE': {
      // The agent desk's actions: the state that refused it, in words.
      const state = typeof err.details.state === 'string' ? err.details.state : '';
      const key = `desk.state.names.${state}`;
      return state && i18n.global.te(key)
        ? t('errors.REXIAN_AGENT_STATE', { state: t(key) })
        : t('errors.REXIAN_AGENT_STATE_none');
    }
    case 'REXIAN_UNKNOWN_AGENT':
    case 'REXIAN_UNKNOWN_QUEUE':
      return t(`errors.${err.code}`, {
        agentId: String(err.details.agentId ?? ''),
        queue: String(err.details.queue ?? ''),
      });
    case 'REXIAN_SIGN_IN_FAILED':
    case 'REXIAN_SESSION_EXPIRED':
    case 'REXIAN_UNAUTHORIZED':
    case 'REXIAN_FORBIDDEN':
    case 'REXIAN_CALL_STATE':
    case 'REXIAN_UNKNOWN_WINDOW':
    case 'REXIAN_BAD_DIAL_STRING':
    case 'REXIAN_NOT_FOUND':
    case 'REXIAN_NO_SUCH_ROUTE':
    case 'REXIAN_CONTROLLER_UNAVAILABLE':
    case 'REXIAN_ASTERISK_UNAVAILABLE':
    case 'REXIAN_ASTERISK_FAILED':
    case 'REXIAN_DATABASE_UNAVAILABLE':
    case 'NETWORK':
      return t(`errors.${err.code}`);
    default:
      return t('errors.unknown', { code: err.code });
  }
}
