// Entry of /ops/ (see web/vite.config.ts), with the styles of the Element Plus parts only
// this page uses (the shared ones are imported by boot.ts).
import 'element-plus/theme-chalk/el-tabs.css';
import 'element-plus/theme-chalk/el-tab-pane.css';
import { mountPage } from '../shared/boot';
import OpsPage from './OpsPage.vue';

mountPage(OpsPage);
