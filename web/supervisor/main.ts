// Entry of /supervisor/ (see web/vite.config.ts).
import { mountPage } from '../shared/boot';
import SupervisorPage from './SupervisorPage.vue';

mountPage(SupervisorPage);
