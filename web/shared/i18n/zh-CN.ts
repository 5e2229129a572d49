// 页面文字（简体中文，默认语言）。Every string the pages show; components hold none.
export default {
  app: { name: 'rexian 12345 热线' },
  language: { switchTo: 'English', label: '切换语言' },
  pages: {
    agent: { title: '坐席工作台', placeholder: '坐席工作台即将在这里上线：软电话、来电弹屏、通话控制和今日话务。' },
    supervisor: { title: '班长监控大屏', placeholder: '班长监控大屏即将在这里上线：队列实时数据、服务水平、坐席状态和通话监听。' },
    ops: { title: '运维控制台', placeholder: '运维控制台即将在这里上线：流程状态、发布前检查、队列与坐席配置、报表和录音。' },
  },
  signIn: {
    heading: '登录',
    name: '工号或用户名',
    namePlaceholder: '坐席请输入工号',
    password: '密码',
    submit: '登录',
    submitting: '正在登录…',
    loading: '正在加载…',
  },
  header: {
    signedInAs: '当前用户',
    role: '角色',
    signOut: '退出登录',
  },
  roles: { agent: '坐席', supervisor: '班长', ops: '运维', admin: '管理员' },
  notAllowed: {
    heading: '无权访问',
    text: '您的角色（{role}）无权使用{page}。',
    goTo: '前往{page}',
  },
  stream: { connecting: '实时连接：连接中', live: '实时连接：正常', reconnecting: '实时连接：正在重连', closed: '实时连接：已断开' },
  errors: {
    REXIAN_SIGN_IN_FAILED: '工号/用户名或密码错误。',
    REXIAN_SIGN_IN_LOCKED: '登录失败次数过多，请 {minutes} 分钟后再试。',
    REXIAN_SESSION_EXPIRED: '登录已过期，请重新登录。',
    REXIAN_UNAUTHORIZED: '您已退出登录，请重新登录。',
    REXIAN_FORBIDDEN: '您的角色无权执行此操作。',
    REXIAN_BAD_REQUEST: '请输入工号/用户名和密码。',
    NETWORK: '无法连接到服务器，请检查网络。',
    unknown: '操作失败（{code}）。',
  },
};
