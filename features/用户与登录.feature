# language: zh-CN
功能: 用户与登录
  系统管理员在页面上新建用户、重设密码、停用和启用用户；没有密码的用户不会被创建。
  管理员设置或重设的密码是初始密码，用户登录后须先改为自己的密码。
  停用的用户立即不能再用已有的会话、登录令牌或 API 令牌访问。
  反复输错密码先被放慢、再被暂时拒绝（429，附 Retry-After 和中英文说明），
  但别处的真实用户不受影响，等待过后也可以再登录，不会被永久锁在门外。

  背景:
    假如 部门名录已经载入
    而且 系统管理员已登录

  场景: 系统管理员新建用户，新用户用自己的密码登录
    当 系统管理员新建 "成员单位" 用户 "lcj-clerk"，单位 "自治区林业和草原局"，密码 "linye-2026-pass"
    那么 用户列表中有 "lcj-clerk"，状态为 "在用"
    而且 "lcj-clerk" 用密码 "linye-2026-pass" 可以登录

  场景: 管理员设置或重设的密码是初始密码，用户登录后须先改为自己的密码
    当 系统管理员新建 "成员单位" 用户 "lcj-new"，单位 "自治区林业和草原局"，密码 "linye-chushi-1"
    那么 用户列表中有 "lcj-new"，状态为 "待修改初始密码"
    而且 "lcj-new" 用密码 "linye-chushi-1" 登录后先转到修改密码，此前打不开 "/tasks"
    当 "lcj-new" 登录后把密码 "linye-chushi-1" 改为 "linye-ziji-2"
    那么 "lcj-new" 用密码 "linye-ziji-2" 登录后直接打开 "/tasks"
    而且 用户列表中 "lcj-new" 不再标注 "待修改初始密码"
    当 系统管理员把 "lcj-new" 的密码设为 "linye-chongshe-3"
    那么 "lcj-new" 用密码 "linye-chongshe-3" 登录后先转到修改密码，此前打不开 "/tasks"

  场景: 两次输入的密码不一致时不创建用户
    当 系统管理员新建 "委员会办公室" 用户 "office-2"，密码 "office-pass-1"，再次输入 "office-pass-2"
    那么 页面提示 "两次输入的密码不一致"
    而且 用户列表中没有 "office-2"

  场景: 停用的用户，会话和令牌立即失效，重新启用后可以再登录
    假如 有 "自治区生态环境厅" 的用户 "sthjt-oa"，密码 "sthjt-oa-pass-1"，并有一个 API 令牌
    而且 "sthjt-oa" 已用密码 "sthjt-oa-pass-1" 在页面上登录
    当 系统管理员停用 "sthjt-oa"
    那么 用户列表中有 "sthjt-oa"，状态为 "已停用"
    而且 "sthjt-oa" 的页面会话要求重新登录
    而且 "sthjt-oa" 的 API 令牌返回 401 错误
    而且 "sthjt-oa" 用密码 "sthjt-oa-pass-1" 不能登录
    当 系统管理员启用 "sthjt-oa"
    那么 "sthjt-oa" 用密码 "sthjt-oa-pass-1" 可以登录

  场景: 系统管理员重设密码
    假如 有 "自治区发展改革委" 的用户 "fgw-clerk"，密码 "old-password-1"
    当 系统管理员把 "fgw-clerk" 的密码设为 "new-password-2"
    那么 "fgw-clerk" 用密码 "new-password-2" 可以登录
    而且 "fgw-clerk" 用密码 "old-password-1" 不能登录

  场景: 反复输错密码先被放慢，再被暂时拒绝，别处和过后都能登录
    假如 有 "自治区水利厅" 的用户 "slt-clerk"，密码 "shuili-pass-1"
    当 从地址 "10.0.0.7" 以 "slt-clerk" 和错误密码登录 10 次，每次按 Retry-After 等候后再试
    那么 前 5 次立即答复，此后依次等候 "2, 4, 8, 16, 32" 秒
    当 从地址 "10.0.0.7" 以 "slt-clerk" 和密码 "shuili-pass-1" 登录
    那么 返回 429 错误，说明中先中文后英文
    而且 答复要求 900 秒后再试
    当 从地址 "10.0.0.8" 以 "slt-clerk" 和密码 "shuili-pass-1" 登录
    那么 登录成功
    当 过了 15 分钟，从地址 "10.0.0.7" 以 "slt-clerk" 和密码 "shuili-pass-1" 登录
    那么 登录成功
