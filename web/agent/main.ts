// Entry of /agent/ (see web/vite.config.ts).
import { mountPage } from '../shared/boot';
import AgentPage from './AgentPage.vue';

mountPage(AgentPage);
