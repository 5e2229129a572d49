// Mounts a page: its root component inside the shared shell, with i18n and the Element Plus
// styles it uses (imported one by one: the agent page's JavaScript budget is 400 kB gzipped).
import 'element-plus/theme-chalk/base.css';
import 'element-plus/theme-chalk/el-button.css';
import 'element-plus/theme-chalk/el-form.css';
import 'element-plus/theme-chalk/el-form-item.css';
import 'element-plus/theme-chalk/el-input.css';
import './theme.css';
import { createApp, type Component } from 'vue';
import { i18n } from './i18n';

export function mountPage(root: Component): void {
  createApp(root).use(i18n).mount('#app');
}
