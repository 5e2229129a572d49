// Entry of /ops/ (see web/vite.config.ts).
import { mountPage } from '../shared/boot';
import OpsPage from './OpsPage.vue';

mountPage(OpsPage);
